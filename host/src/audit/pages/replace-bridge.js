// Hostile page script: tries to replace, extend or delete the bridge
// client and the host's delivery hooks, so that it would see every answer
// or hand the page forged ones.
async ({ settle }) => {
  const fake = () => Promise.resolve("forged");
  const attempt = (f) => {
    try {
      f();
      return "no error";
    } catch (e) {
      return e.name;
    }
  };
  const out = {
    assignGlobal: attempt(() => { "use strict"; window.tollgate = { invoke: fake }; }),
    assignInvoke: attempt(() => { "use strict"; window.tollgate.invoke = fake; }),
    defineGlobal: attempt(() => Object.defineProperty(window, "tollgate", { value: { invoke: fake } })),
    deleteGlobal: attempt(() => { "use strict"; delete window.tollgate; }),
    addMember: attempt(() => { "use strict"; window.tollgate.extra = 1; }),
    replaceDeliver: attempt(() => { "use strict"; window.__tollgate_deliver = () => {}; }),
    defineDeliver: attempt(() => Object.defineProperty(window, "__tollgate_deliver", { value: () => {} })),
    replaceEmit: attempt(() => { "use strict"; window.__tollgate_emit = () => {}; }),
    setPrototype: attempt(() => { "use strict"; Object.setPrototypeOf(window.tollgate, { invoke: fake }); }),
  };
  const descriptor = Object.getOwnPropertyDescriptor(window, "tollgate");
  out.writable = descriptor.writable;
  out.configurable = descriptor.configurable;
  out.frozen = Object.isFrozen(window.tollgate);
  out.invokeIsFake = window.tollgate.invoke === fake;
  out.ping = await settle(window.tollgate.invoke("app:ping", {}));
  return out;
}
