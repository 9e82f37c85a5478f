// Tollgate's claims linter in JavaScript, built into a WebAssembly
// component for the `tollgate:lint/claims-linter` world by ComponentizeJS
// (build.mjs). It applies exactly the rules of the Rust linter
// (guest-plugins/claims-linter/src/lib.rs), with the same messages in the
// same order: the host's tests run one table through both and compare.
//
// It trusts nothing it is given and is trusted with nothing: the host caps
// the input before the call and checks every finding after it. The world
// imports nothing; "now" comes in the policy.

/** A token issued this far in the future is still accepted as clock skew. */
const ALLOWED_CLOCK_SKEW_SECONDS = 60;
/** The most findings one call returns (the host refuses more). */
const MAX_FINDINGS = 100;
/** Claims with longer names are not reported on (the host refuses longer paths). */
const MAX_REPORTED_NAME_BYTES = 256;
/** The registered time claims, in the order they are checked. */
const TIME_CLAIMS = ['exp', 'nbf', 'iat'];
/** Registered claims that must be strings when present. */
const STRING_CLAIMS = ['iss', 'sub', 'jti'];
/** Claim names that suggest personal data, normalized (see `normalizeName`). */
const PERSONAL_NAMES = new Set([
  'email', 'emailaddress', 'mail',
  'phone', 'phonenumber', 'mobile', 'tel', 'telephone',
  'ssn', 'socialsecuritynumber', 'passport', 'passportnumber',
  'address', 'streetaddress', 'postalcode', 'zip', 'zipcode',
  'birthdate', 'dateofbirth', 'dob', 'birthday',
  'name', 'fullname', 'firstname', 'lastname', 'middlename', 'givenname', 'familyname', 'surname',
  'ip', 'ipaddress',
  'creditcard', 'cardnumber', 'iban',
]);
const SEVERITY_RANK = { error: 0, warning: 1, info: 2 };
const READABLE = 'anyone holding the token can read it';

/** Whether `obj` has its own property `key` (JSON.parse makes only own ones). */
function has(obj, key) {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** A JSON object (not an array, not null). */
function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** ASCII-lowercased, without `_`, `-`, `.` and spaces. */
function normalizeName(name) {
  return name.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)).replace(/[_\-. ]/g, '');
}

/** Bytes of the UTF-8 encoding of `s`. */
function utf8Length(s) {
  let n = 0;
  for (const ch of s) {
    const cp = /** @type {number} */ (ch.codePointAt(0));
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** A name the host accepts as a path: non-empty, short, no control characters. */
function isReportable(name) {
  return name.length > 0 && utf8Length(name) <= MAX_REPORTED_NAME_BYTES && !/[\u0000-\u001f\u007f-\u009f]/.test(name);
}

/** local@domain.tld in ASCII: the shape of an email address. */
function looksLikeEmail(s) {
  return /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(s);
}

/** Whether a value holds an email address or a personal field at any depth. */
function holdsPersonalData(v) {
  if (typeof v === 'string') return looksLikeEmail(v);
  if (Array.isArray(v)) return v.some(holdsPersonalData);
  if (isObject(v)) {
    return Object.keys(v).some((k) => PERSONAL_NAMES.has(normalizeName(k)) || holdsPersonalData(v[k]));
  }
  return false;
}

/** Compares by Unicode code point (the order of UTF-8 bytes, as the Rust linter sorts). */
function compareCodePoints(a, b) {
  const x = Array.from(a, (c) => /** @type {number} */ (c.codePointAt(0)));
  const y = Array.from(b, (c) => /** @type {number} */ (c.codePointAt(0)));
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

function lint(claimsText, policy) {
  let claims;
  try {
    claims = JSON.parse(claimsText);
  } catch {
    throw { tag: 'invalid-claims', val: 'the claims are not valid JSON' };
  }
  if (!isObject(claims)) {
    throw { tag: 'invalid-claims', val: 'the claims are not a JSON object' };
  }
  const now = Number(policy.nowSeconds);
  const maxLifetime = Number(policy.maxLifetimeSeconds);
  const findings = [];
  const add = (code, severity, path, message) => findings.push({ code, severity, path, message });

  const times = {};
  for (const key of TIME_CLAIMS) {
    if (!has(claims, key)) continue;
    if (typeof claims[key] === 'number') {
      times[key] = claims[key];
    } else {
      add('NOT_A_NUMBER', 'error', key, `\`${key}\` must be a number of seconds since the Unix epoch`);
    }
  }
  for (const key of STRING_CLAIMS) {
    if (has(claims, key) && typeof claims[key] !== 'string') {
      add('WRONG_TYPE', 'error', key, `\`${key}\` must be a string`);
    }
  }
  const aud = has(claims, 'aud') ? claims.aud : undefined;
  const audOk = aud === undefined || typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'));
  if (!audOk) {
    add('WRONG_TYPE', 'error', 'aud', '`aud` must be a string or an array of strings');
  }

  if (times.exp !== undefined) {
    if (times.exp <= now) {
      add('EXP_IN_PAST', 'error', 'exp', '`exp` is not in the future: the token is already expired');
    }
    const start = times.iat !== undefined ? times.iat : now;
    if (times.exp - start > maxLifetime) {
      add('EXPIRY_TOO_LONG', 'warning', 'exp',
        `the token lives longer than the policy allows (at most ${String(policy.maxLifetimeSeconds)} seconds)`);
    }
    if (times.nbf !== undefined && times.nbf >= times.exp) {
      add('NBF_AFTER_EXP', 'error', 'nbf', '`nbf` is not before `exp`: the token is never valid');
    }
  }
  if (times.iat !== undefined && times.iat > now + ALLOWED_CLOCK_SKEW_SECONDS) {
    add('IAT_IN_FUTURE', 'warning', 'iat', '`iat` is in the future');
  }

  if (!has(claims, 'iss') || claims.iss === '') {
    add('MISSING_ISS', 'info', has(claims, 'iss') ? 'iss' : '', 'no issuer: add an `iss` claim naming who issues the token');
  }
  if (aud === undefined || aud === '' || (Array.isArray(aud) && aud.length === 0)) {
    add('MISSING_AUD', 'warning', aud === undefined ? '' : 'aud',
      'no audience: add an `aud` claim so that only the service it is meant for accepts the token');
  }

  for (const key of Object.keys(claims)) {
    if (!isReportable(key)) continue;
    const value = claims[key];
    if (PERSONAL_NAMES.has(normalizeName(key))) {
      add('PERSONAL_DATA', 'warning', key, `the name suggests personal data; ${READABLE}`);
    } else if (typeof value === 'string' && looksLikeEmail(value)) {
      add('PERSONAL_DATA', 'warning', key, `the value looks like an email address; ${READABLE}`);
    } else if (holdsPersonalData(value)) {
      add('PERSONAL_DATA', 'warning', key, `it holds personal data (a personal field or an email address); ${READABLE}`);
    }
  }

  findings.sort((a, b) =>
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]
    || compareCodePoints(a.path, b.path)
    || compareCodePoints(a.code, b.code));
  return findings.slice(0, MAX_FINDINGS);
}

export const linter = { lint };
