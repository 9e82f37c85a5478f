//! `tollgate audit --plugins`: what every installed plugin asks for and
//! what the host grants, and which channels every window may call.
