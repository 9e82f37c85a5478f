//! Key files and key set files, read by the host (the CLI names them; the
//! window's own dialog picks them). Read capped, one byte past the cap at
//! most, only if the path is a regular file (a FIFO or a device would
//! block or never end), into memory wiped when dropped. Errors don't name
//! the path: a channel's error reaches the page, which never learns where
//! the user's files are.

use std::io::Read as _;
use std::path::Path;

use zeroize::Zeroizing;

use crate::bridge::{BridgeError, ErrorCode};
use crate::jwt::{Algorithm, JwtError, MAX_KEY_SET_BYTES, private_key_from_file};

/// The largest key file read (an RSA-4096 key as a JWK is under 4 KiB).
pub const MAX_KEY_FILE_BYTES: usize = 64 * 1024;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The OS refused or failed the read.
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
    /// A directory, FIFO, socket or device.
    #[error("that is not a regular file")]
    NotAFile,
    /// Over the cap.
    #[error("the file is over {0} bytes")]
    TooLarge(usize),
    /// Text was expected.
    #[error("the file is not UTF-8 text")]
    NotText,
    /// The content is not a key for the algorithm.
    #[error("{0}")]
    Key(#[from] JwtError),
}

impl From<ReadError> for BridgeError {
    fn from(e: ReadError) -> Self {
        let code = match e {
            ReadError::Io(_) => ErrorCode::LoadFailed,
            _ => ErrorCode::InvalidInput,
        };
        BridgeError::new(code, format!("the chosen file: {e}"))
    }
}

/// At most `cap` bytes of the regular file at `path`.
pub fn read_capped(path: &Path, cap: usize) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    // Opened without blocking: a FIFO's open would wait for a writer.
    let fd = rustix::fs::open(path, rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::CLOEXEC, rustix::fs::Mode::empty())
        .map_err(std::io::Error::from)?;
    let file = std::fs::File::from(fd);
    if !file.metadata()?.is_file() {
        return Err(ReadError::NotAFile);
    }
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(cap as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > cap {
        return Err(ReadError::TooLarge(cap));
    }
    Ok(bytes)
}

/// The private key for `alg` in the key file at `path`, in the form the
/// app stores ([`private_key_from_file`]: PEM, DER or JWK).
pub fn read_key_file(path: &Path, alg: Algorithm) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let bytes = read_capped(path, MAX_KEY_FILE_BYTES)?;
    Ok(private_key_from_file(alg, &bytes)?)
}

/// A JSON Web Key Set file's text, up to the key set's cap.
pub fn read_key_set_file(path: &Path) -> Result<String, ReadError> {
    let bytes = read_capped(path, MAX_KEY_SET_BYTES)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ReadError::NotText)
}

/// Writes `bytes` to `path` (a file the user picked to save to) whole or
/// not at all, with `mode`: a temporary file beside it, synced, then
/// renamed over it. Errors say what went wrong, never where (tempfile's
/// errors name the path).
pub fn write_whole(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let write = || -> std::io::Result<()> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new().prefix(".tollgate-").suffix(".tmp").tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode))?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().map_err(|e| std::io::Error::from(e.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_capped_and_only_if_regular() {
        let dir = tempfile::tempdir().expect("dir");
        let at_cap = dir.path().join("at-cap");
        std::fs::write(&at_cap, vec![b'a'; 16]).expect("write");
        assert_eq!(read_capped(&at_cap, 16).expect("read").len(), 16);
        assert!(matches!(read_capped(&at_cap, 15), Err(ReadError::TooLarge(15))));
        assert!(matches!(read_capped(dir.path(), 16), Err(ReadError::NotAFile)));
        assert!(matches!(read_capped(&dir.path().join("missing"), 16), Err(ReadError::Io(_))));
        // A FIFO would block a plain read forever.
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
        assert!(matches!(read_capped(&fifo, 16), Err(ReadError::NotAFile)));
        // What reaches the page names no path.
        let e = BridgeError::from(read_capped(&dir.path().join("missing"), 16).expect_err("missing"));
        assert!(!e.message.contains(&*dir.path().to_string_lossy()), "{}", e.message);
    }
}
