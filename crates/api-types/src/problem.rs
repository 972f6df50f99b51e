//! RFC 9457 problem details: the catalogue of problem types every error maps to.

use serde::{Deserialize, Serialize};

macro_rules! problem_types {
    ($($variant:ident = ($slug:literal, $status:literal, $title:literal),)*) => {
        /// A stable, documented kind of problem. Clients branch on `type`, never on `detail`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ProblemType { $($variant,)* }

        impl ProblemType {
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant,)*];

            pub const fn slug(self) -> &'static str {
                match self { $(ProblemType::$variant => $slug,)* }
            }

            pub const fn status(self) -> u16 {
                match self { $(ProblemType::$variant => $status,)* }
            }

            pub const fn title(self) -> &'static str {
                match self { $(ProblemType::$variant => $title,)* }
            }
        }
    };
}

problem_types! {
    BadRequest = ("bad-request", 400, "The request is not valid HTTP for this route"),
    MalformedJson = ("malformed-json", 400, "The request body is not valid JSON"),
    InvalidParameter = ("invalid-parameter", 400, "A path or query parameter is not valid"),
    InvalidCursor = ("invalid-cursor", 400, "The pagination cursor is not valid"),
    Unauthenticated = ("unauthenticated", 401, "Authentication is required"),
    InvalidCredentials = ("invalid-credentials", 401, "The credentials are not valid"),
    MfaRequired = ("mfa-required", 401, "A multi-factor code is required"),
    InvalidMfaCode = ("invalid-mfa-code", 401, "The multi-factor code is not valid"),
    Forbidden = ("forbidden", 403, "A permission is missing"),
    NotAllowed = ("not-allowed", 403, "This action is not allowed"),
    MfaEnrolmentRequired = ("mfa-enrolment-required", 403, "Multi-factor sign-in must be set up first"),
    NotFound = ("not-found", 404, "Not found"),
    MethodNotAllowed = ("method-not-allowed", 405, "Method not allowed"),
    Conflict = ("conflict", 409, "The request conflicts with the current state"),
    PayloadTooLarge = ("payload-too-large", 413, "The request body is too large"),
    UriTooLong = ("uri-too-long", 414, "The request URI is too long"),
    UnsupportedMediaType = ("unsupported-media-type", 415, "Unsupported media type"),
    Validation = ("validation", 422, "The request is not valid"),
    RateLimited = ("rate-limited", 429, "Too many requests"),
    FileTooLarge = ("file-too-large", 413, "The file or archive is too large"),
    StorageQuotaExceeded = ("storage-quota-exceeded", 413, "The organization's storage quota would be exceeded"),
    UnsupportedFileType = ("unsupported-file-type", 415, "The file type is not accepted"),
    FileTypeMismatch = ("file-type-mismatch", 422, "The file name does not match its content"),
    FileEncrypted = ("file-encrypted", 422, "The file is encrypted or password-protected"),
    FileCorrupt = ("file-corrupt", 422, "The file is empty or damaged"),
    FileLimitExceeded = ("file-limit-exceeded", 422, "The file has too many pages, an oversized page or bad image dimensions"),
    ZipBomb = ("zip-bomb", 422, "The archive expands too much"),
    BadArchive = ("bad-archive", 422, "The archive cannot be used as a batch"),
    InvalidLink = ("invalid-link", 403, "The link is invalid or expired"),
    Internal = ("internal", 500, "Internal error"),
    Unavailable = ("unavailable", 503, "Temporarily unavailable"),
    Timeout = ("timeout", 503, "The request took too long"),
}

impl ProblemType {
    /// The general problem of a status, for refusals made below the handlers (the framework's).
    pub fn for_status(status: u16) -> Option<ProblemType> {
        use ProblemType as P;
        Some(match status {
            400 => P::BadRequest,
            401 => P::Unauthenticated,
            403 => P::Forbidden,
            404 => P::NotFound,
            405 => P::MethodNotAllowed,
            409 => P::Conflict,
            413 => P::PayloadTooLarge,
            414 => P::UriTooLong,
            415 => P::UnsupportedMediaType,
            422 => P::Validation,
            429 => P::RateLimited,
            500 => P::Internal,
            503 => P::Unavailable,
            _ => return None,
        })
    }

    pub fn uri(self) -> String {
        format!("https://countinghouse.dev/problems/{}", self.slug())
    }
}

/// One field's problem in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as a JSON pointer-like path (`email`, `lines[2].amount`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// An `application/problem+json` body.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (stable; branch on this).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong in this case, and what to do about it.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Problem {
            kind: kind.uri(),
            title: kind.title().to_owned(),
            status: kind.status(),
            detail: detail.into(),
            request_id: None,
            errors: Vec::new(),
        }
    }

    /// The catalogue entry this problem names, if it is one of ours.
    pub fn problem_type(&self) -> Option<ProblemType> {
        ProblemType::ALL.iter().copied().find(|t| t.uri() == self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_statuses_are_errors() {
        let mut slugs: Vec<_> = ProblemType::ALL.iter().map(|t| t.slug()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
        assert!(ProblemType::ALL.iter().all(|t| (400..600).contains(&t.status())));
        let p = Problem::new(ProblemType::Conflict, "x");
        assert_eq!(p.problem_type(), Some(ProblemType::Conflict));
    }
}
