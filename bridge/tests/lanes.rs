//! Deferred calls under load, without a window: the two lanes keep a cheap
//! channel answering while every heavy thread is busy, and the backlog of
//! one (window, channel) is bounded, refused past its bound with
//! `RATE_LIMITED` and `retryAfterMs`, and gone once its calls have run.

use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tollgate_bridge::backlog::MAX_PENDING;
use tollgate_bridge::channels::{Empty, MAIN_ONLY};
use tollgate_bridge::core::{Answer, Dispatch, Sender};
use tollgate_bridge::envelope::build;
use tollgate_bridge::pool::{HEAVY_THREADS, HandlerPool};
use tollgate_bridge::registry::{Body, Channel, ChannelSpec, Direction, Execution, Quota};
use tollgate_bridge::{Bridge, ChannelRegistry, ErrorCode, EventHub, WindowLabel};

const PAGE: &str = "tollgate://localhost/index.html";

/// A liveness bound, not a timing target: long enough for any machine.
const PATIENCE: Duration = Duration::from_secs(10);

struct Heavy;
impl Channel for Heavy {
    type Request = Empty;
    type Response = Empty;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "test:heavy",
        summary: "Waits for the test's gate.",
        direction: Direction::WebviewToHost,
        windows: MAIN_ONLY,
        max_payload_bytes: 64,
        quota: Quota { per_second: 10_000, burst: 10_000 },
        since: "1.0",
        deprecated: None,
        state_changing: false,
        execution: Execution::Heavy,
        body: Body::Json,
    };
}

struct Light;
impl Channel for Light {
    type Request = Empty;
    type Response = Empty;
    const SPEC: ChannelSpec =
        ChannelSpec { name: "test:light", summary: "Answers at once.", execution: Execution::Blocking, ..Heavy::SPEC };
}

/// Closed: heavy handlers wait. Open: they sleep their work and return.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn pass(&self) {
        let mut open = self.open.lock().expect("gate");
        while !*open {
            open = self.opened.wait(open).expect("gate");
        }
    }

    fn set(&self, open: bool) {
        *self.open.lock().expect("gate") = open;
        self.opened.notify_all();
    }
}

struct Rig {
    bridge: Arc<Bridge>,
    secret: String,
    pool: HandlerPool,
    answers: mpsc::Receiver<Answer>,
    gate: Arc<Gate>,
    seq: std::sync::atomic::AtomicU64,
}

impl Rig {
    fn new(work: Duration) -> Self {
        let gate = Arc::new(Gate::default());
        let mut registry = ChannelRegistry::new();
        let g = Arc::clone(&gate);
        registry
            .register::<Heavy, _>(move |_, _: Empty| {
                g.pass();
                std::thread::sleep(work);
                Ok(Empty {})
            })
            .expect("declared");
        registry.register::<Light, _>(|_, _: Empty| Ok(Empty {})).expect("declared");
        let bridge = Arc::new(Bridge::new(registry, Arc::new(EventHub::new())));
        let secret = bridge.issue_secret(WindowLabel::Main).expect("secret").to_string();
        let (tx, answers) = mpsc::channel();
        let tx = Mutex::new(tx);
        let pool = HandlerPool::start(Arc::new(move |_, answer| tx.lock().is_ok_and(|tx| tx.send(answer).is_ok())));
        Self { bridge, secret, pool, answers, gate, seq: Default::default() }
    }

    /// Sends one call: `None` if it was queued, the answer if the bridge
    /// answered at once.
    fn call(&self, channel: &str) -> Option<Answer> {
        let id = format!("r{}", self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let message = build(&self.secret, &id, channel, "{}");
        match self.bridge.handle_message(Sender { window: WindowLabel::Main, page_url: PAGE }, &message) {
            Dispatch::Ready(answer) => Some(answer),
            Dispatch::Deferred(call) => {
                self.pool.submit(call);
                None
            }
        }
    }

    fn next_answer(&self) -> Answer {
        self.answers.recv_timeout(PATIENCE).expect("an answer within the patience bound")
    }
}

#[test]
fn a_light_call_answers_while_every_heavy_thread_is_busy() {
    let rig = Rig::new(Duration::ZERO);
    // Every heavy thread busy, and more heavy calls queued behind them.
    for _ in 0..HEAVY_THREADS + 3 {
        assert!(rig.call("test:heavy").is_none(), "queued");
    }
    assert!(rig.call("test:light").is_none(), "queued in its own lane");
    let first = rig.next_answer();
    assert!(first.result.is_ok(), "the light call answered while the heavy lane is stuck: {:?}", first.result);
    assert_eq!(rig.bridge.pending(WindowLabel::Main, "test:heavy"), Some(HEAVY_THREADS as u32 + 3));
    rig.gate.set(true);
    for _ in 0..HEAVY_THREADS + 3 {
        assert!(rig.next_answer().result.is_ok());
    }
}

#[test]
fn a_flood_is_refused_past_its_backlog_with_a_retry_time_and_the_backlog_drains() {
    let rig = Rig::new(Duration::ZERO);
    let mut admitted = 0;
    let refused = loop {
        match rig.call("test:heavy") {
            None => admitted += 1,
            Some(answer) => break answer,
        }
        assert!(admitted <= MAX_PENDING, "the backlog is bounded");
    };
    assert_eq!(admitted, MAX_PENDING, "a channel with no history may have the count cap waiting");
    assert_eq!(refused.code(), Some(ErrorCode::RateLimited), "{:?}", refused.result);
    let details = refused.result.as_ref().expect_err("refused").details.clone().expect("details");
    assert!(details["retryAfterMs"].as_u64().is_some_and(|ms| ms >= 1), "{details}");
    assert_eq!(details["pending"], MAX_PENDING);
    // Another channel of the same window is not held by this backlog.
    assert!(rig.call("test:light").is_none());
    assert!(rig.next_answer().result.is_ok());
    rig.gate.set(true);
    for _ in 0..admitted {
        assert!(rig.next_answer().result.is_ok());
    }
    assert_eq!(rig.bridge.pending(WindowLabel::Main, "test:heavy"), Some(0), "nothing left behind");
    assert!(rig.call("test:heavy").is_none(), "admitted again once drained");
    assert!(rig.next_answer().result.is_ok());
}

#[test]
fn a_slow_channel_gets_fewer_places_than_a_fast_one() {
    // Each heavy call takes at least 60 ms: the backlog's 250 ms budget
    // holds at most four of them, whatever the count cap allows.
    let rig = Rig::new(Duration::from_millis(60));
    rig.gate.set(true);
    assert!(rig.call("test:heavy").is_none());
    assert!(rig.next_answer().result.is_ok(), "one run teaches the backlog its cost");
    rig.gate.set(false);
    let mut admitted = 0;
    while rig.call("test:heavy").is_none() {
        admitted += 1;
        assert!(admitted <= MAX_PENDING, "the backlog is bounded");
    }
    assert!((1..=4).contains(&admitted), "{admitted} calls of 60 ms admitted against a 250 ms budget");
    rig.gate.set(true);
    for _ in 0..admitted {
        assert!(rig.next_answer().result.is_ok());
    }
}

#[test]
fn once_the_event_loop_is_gone_queued_calls_are_dropped_unrun_and_give_their_backlog_back() {
    let mut registry = ChannelRegistry::new();
    let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    registry
        .register::<Light, _>(move |_, _: Empty| {
            r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Empty {})
        })
        .expect("declared");
    let bridge = Arc::new(Bridge::new(registry, Arc::new(EventHub::new())));
    let secret = bridge.issue_secret(WindowLabel::Main).expect("secret").to_string();
    // The window adapter answers false when the event loop has ended.
    let pool = HandlerPool::start(Arc::new(|_, _| false));
    assert!(format!("{pool:?}").starts_with("HandlerPool"), "{pool:?}");
    let drained = |what: &str| {
        let deadline = std::time::Instant::now() + PATIENCE;
        while bridge.pending(WindowLabel::Main, "test:light").unwrap_or(0) != 0 {
            assert!(std::time::Instant::now() < deadline, "{what}: the backlog never drained");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    for i in 0..4 {
        let message = build(&secret, &format!("r{i}"), "test:light", "{}");
        match bridge.handle_message(Sender { window: WindowLabel::Main, page_url: PAGE }, &message) {
            Dispatch::Deferred(call) => pool.submit(call),
            Dispatch::Ready(answer) => panic!("call {i} was answered at once: {:?}", answer.result),
        }
        drained(&format!("call {i}"));
    }
    // The first call ran and found the event loop gone; its lane ended
    // there, so the three after it were dropped without running.
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 1);
}
