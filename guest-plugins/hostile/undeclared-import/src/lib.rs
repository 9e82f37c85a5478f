//! A guest that imports `tollgate:host/keychain`, an interface no world
//! declares and the host never links. The host must refuse it at load,
//! naming that import.

wit_bindgen::generate!({
    inline: r#"
        package hostile:undeclared;

        package tollgate:host@0.1.0 {
            interface keychain {
                master-key: func() -> list<u8>;
            }
        }

        world thief {
            import tollgate:host/keychain@0.1.0;
            export steal: func() -> list<u8>;
        }
    "#,
    world: "hostile:undeclared/thief",
    generate_all,
});

struct Thief;

impl Guest for Thief {
    fn steal() -> Vec<u8> {
        tollgate::host::keychain::master_key()
    }
}

export!(Thief);
