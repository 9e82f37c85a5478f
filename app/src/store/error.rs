//! The store's boundary error: one variant per outcome the page tells
//! apart, each with a stable code ([`StoreError::code`]).

use std::path::PathBuf;

use crate::store::profiles::ProfileId;

/// Why a store operation failed. Messages name files and fields, never key
/// material (the store only ever holds keys sealed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file could not be read (an I/O error, or a file written by a
    /// newer version); it was left where it is and will not be written
    /// over.
    #[error("{file} could not be read: {reason}")]
    LoadFailed {
        /// The file's name.
        file: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The file did not parse or broke the rules; it was moved aside.
    #[error("{file} was unreadable ({reason}); it was moved aside to {} and kept", moved_to.display())]
    Corrupt {
        /// The file's name.
        file: &'static str,
        /// Where the unreadable file is now.
        moved_to: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// Writing failed (e.g. the disk is full); the previous file is intact.
    #[error("{file} could not be saved ({reason}); the previous version is intact")]
    SaveFailed {
        /// The file's name.
        file: &'static str,
        /// The I/O error.
        reason: String,
    },
    /// Writing failed while deleting; nothing was deleted.
    #[error("the profile could not be deleted: {file} could not be saved ({reason}); nothing changed")]
    DeleteFailed {
        /// The file's name.
        file: &'static str,
        /// The I/O error.
        reason: String,
    },
    /// A field breaks a rule.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as the page names it (`name`, `payload`, ...).
        field: &'static str,
        /// The rule it breaks.
        message: String,
    },
    /// Another profile has this name, compared without case and by how it
    /// looks ([`profiles::name_key`](crate::store::profiles::name_key)).
    #[error("a profile named \"{0}\" already exists, or one whose name looks the same (names are compared without case, and letters that look alike count as the same)")]
    DuplicateName(String),
    /// The most profiles the app keeps already exist.
    #[error("there are already {0} profiles, the most the app keeps; delete one first")]
    LimitReached(usize),
    /// No profile has this id.
    #[error("no profile has the id {0}")]
    NotFound(ProfileId),
}

impl StoreError {
    /// The stable code of this error (the bridge's code of the same name).
    pub fn code(&self) -> &'static str {
        match self {
            Self::LoadFailed { .. } => "LOAD_FAILED",
            Self::Corrupt { .. } => "PARSE_ERROR",
            Self::SaveFailed { .. } => "SAVE_FAILED",
            Self::DeleteFailed { .. } => "DELETE_FAILED",
            Self::Invalid { .. } => "VALIDATION_ERROR",
            Self::DuplicateName(_) => "DUPLICATE_NAME",
            Self::LimitReached(_) => "PROFILE_LIMIT_REACHED",
            Self::NotFound(_) => "NOT_FOUND",
        }
    }

    /// A rule broken by `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }
}
