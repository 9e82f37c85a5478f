//! Length-prefixed frames: a 4-byte big-endian length, then that many bytes
//! of JSON. The length is checked against a hard maximum before anything
//! is allocated, and reads run against a deadline for the whole frame, so
//! a peer dribbling bytes cannot hold a connection open.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// The largest frame after authentication: a signing call's claims are at
/// most 64 KiB and a token 128 KiB; base64 and JSON add the rest.
pub const MAX_FRAME_BYTES: u32 = 1024 * 1024;

/// The largest frame before authentication: a handshake is about 90 bytes.
pub const MAX_HANDSHAKE_FRAME_BYTES: u32 = 256;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length prefix is over the limit; nothing more was read.
    #[error("frame of {claimed} bytes is over the {max}-byte limit")]
    TooLarge {
        /// What the peer claimed.
        claimed: u32,
        /// The limit.
        max: u32,
    },
    /// The deadline passed before the frame was complete.
    #[error("timed out")]
    Timeout,
    /// The peer closed the connection.
    #[error("connection closed")]
    Closed,
    /// Any other I/O error.
    #[error("i/o: {0}")]
    Io(io::Error),
}

fn read_exact_by(stream: &mut UnixStream, buf: &mut [u8], deadline: Option<Instant>) -> Result<(), FrameError> {
    let mut filled = 0;
    while filled < buf.len() {
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(FrameError::Timeout);
            }
            stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).map_err(FrameError::Io)?;
        } else {
            stream.set_read_timeout(None).map_err(FrameError::Io)?;
        }
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(FrameError::Closed),
            Ok(n) => filled += n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(FrameError::Timeout);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(())
}

/// Waits up to `spin` for `stream` to become readable without sleeping,
/// then returns (readable or not). A blocked reader on a virtual machine
/// pays for a vCPU wake-up (tens of microseconds) on every frame; a short
/// poll loop on a reply that is about to arrive avoids it.
pub fn spin_until_readable(stream: &UnixStream, spin: Duration) {
    use rustix::net::{RecvFlags, recv};
    let started = Instant::now();
    let mut probe = [0u8; 1];
    while started.elapsed() < spin {
        match recv(stream, &mut probe, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
            Err(rustix::io::Errno::AGAIN) => std::hint::spin_loop(),
            _ => return,
        }
    }
}

/// Reads one frame of at most `max` bytes, finishing by `deadline`.
pub fn read_frame(stream: &mut UnixStream, max: u32, deadline: Option<Instant>) -> Result<zeroize::Zeroizing<Vec<u8>>, FrameError> {
    let mut len = [0u8; 4];
    read_exact_by(stream, &mut len, deadline)?;
    let claimed = u32::from_be_bytes(len);
    if claimed > max {
        return Err(FrameError::TooLarge { claimed, max });
    }
    let size = usize::try_from(claimed).map_err(|_| FrameError::TooLarge { claimed, max })?;
    let mut body = zeroize::Zeroizing::new(vec![0u8; size]);
    read_exact_by(stream, &mut body, deadline)?;
    Ok(body)
}

/// Writes one frame.
pub fn write_frame(stream: &mut impl Write, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&n| n <= MAX_FRAME_BYTES)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame over the size limit"))?;
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(body.len() + 4));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    stream.write_all(&out)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_oversized_claims_are_refused_before_allocating() {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        write_frame(&mut a, b"{\"x\":1}").expect("write");
        assert_eq!(&*read_frame(&mut b, MAX_FRAME_BYTES, None).expect("read"), b"{\"x\":1}");
        a.write_all(&u32::MAX.to_be_bytes()).expect("write");
        assert!(matches!(read_frame(&mut b, MAX_FRAME_BYTES, None), Err(FrameError::TooLarge { claimed: u32::MAX, .. })));
    }

    #[test]
    fn a_dribbling_peer_times_out_on_the_whole_frame() {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        let writer = std::thread::spawn(move || {
            a.write_all(&10u32.to_be_bytes()).expect("len");
            for byte in b"0123456789" {
                std::thread::sleep(Duration::from_millis(40));
                if a.write_all(&[*byte]).is_err() {
                    return;
                }
            }
        });
        let started = Instant::now();
        let r = read_frame(&mut b, MAX_FRAME_BYTES, Some(Instant::now() + Duration::from_millis(150)));
        assert!(matches!(r, Err(FrameError::Timeout)), "{r:?}");
        assert!(started.elapsed() < Duration::from_millis(400));
        drop(b);
        writer.join().expect("writer");
    }
}
