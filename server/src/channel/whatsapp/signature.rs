//! `X-Hub-Signature-256`: Meta signs every webhook delivery with HMAC-SHA256
//! of the raw request body, keyed with the app secret, and sends it as
//! `sha256=<64 hex digits>`. Verification must run on the bytes exactly as
//! received: Meta signs its escaped-unicode JSON, which no re-serialisation
//! reproduces.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The only scheme Meta sends in `X-Hub-Signature-256`.
const PREFIX: &str = "sha256=";
/// SHA-256 output size.
const TAG_LEN: usize = 32;

/// Why a webhook signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header (or an empty one).
    #[error("X-Hub-Signature-256 header is missing")]
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    #[error("X-Hub-Signature-256 header is malformed: {0}")]
    Malformed(&'static str),
    /// Well-formed, but not the HMAC of this body under our app secret.
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Checks `header` (the `X-Hub-Signature-256` value) against the HMAC-SHA256
/// of `raw_body` under `app_secret`, in constant time.
///
/// Hex digits are accepted in either case: Meta sends lowercase, and the
/// comparison is on the decoded bytes, so case carries no information.
pub fn verify_signature(
    app_secret: &[u8],
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let hex_tag = header
        .strip_prefix(PREFIX)
        .ok_or(SignatureError::Malformed("expected `sha256=<hex>`"))?;
    // Checked before decoding so an oversized header costs nothing.
    if hex_tag.len() != TAG_LEN * 2 {
        return Err(SignatureError::Malformed("expected 64 hex digits"));
    }
    let mut tag = [0u8; TAG_LEN];
    hex::decode_to_slice(hex_tag, &mut tag)
        .map_err(|_| SignatureError::Malformed("not hexadecimal"))?;
    // HMAC accepts keys of any length (RFC 2104), so this cannot fail; if it
    // ever did, refusing is the safe answer.
    let mut mac = HmacSha256::new_from_slice(app_secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(raw_body);
    // `verify_slice` compares in constant time: no timing oracle on the tag.
    mac.verify_slice(&tag).map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature-256` value Meta would send for `raw_body`
/// (`sha256=<lowercase hex>`), for the simulator and tests.
pub fn sign(app_secret: &[u8], raw_body: &[u8]) -> String {
    match HmacSha256::new_from_slice(app_secret) {
        Ok(mut mac) => {
            mac.update(raw_body);
            format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
        }
        // Unreachable (HMAC takes any key length); a bare prefix never verifies.
        Err(_) => PREFIX.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-app-secret";
    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;

    #[test]
    fn matches_rfc_4231_test_case_2() {
        // Known answer, so `sign` is checked against HMAC-SHA256 itself and
        // not only against `verify_signature`.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn round_trip_verifies() {
        let header = sign(SECRET, BODY);
        assert_eq!(verify_signature(SECRET, BODY, Some(&header)), Ok(()));
    }

    #[test]
    fn empty_body_round_trips() {
        let header = sign(SECRET, b"");
        assert_eq!(verify_signature(SECRET, b"", Some(&header)), Ok(()));
    }

    #[test]
    fn signature_from_another_secret_is_a_mismatch() {
        let forged = sign(b"not-the-app-secret", BODY);
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&forged)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn body_changed_after_signing_is_a_mismatch() {
        let header = sign(SECRET, BODY);
        let edited = br#"{"object":"whatsapp_business_account","entry":[{}]}"#;
        assert_eq!(
            verify_signature(SECRET, edited, Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn reserialised_json_is_a_mismatch() {
        // Meta signs `\u00e9`-escaped JSON; the same document with the raw
        // character is different bytes and must not verify.
        let escaped = br#"{"name":"Jos\u00e9"}"#;
        let header = sign(SECRET, escaped);
        assert_eq!(
            verify_signature(SECRET, r#"{"name":"José"}"#.as_bytes(), Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_or_empty_header_is_missing() {
        assert_eq!(
            verify_signature(SECRET, BODY, None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(SECRET, BODY, Some("")),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(SECRET, BODY, Some("   ")),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn malformed_headers_are_malformed() {
        let good = sign(SECRET, BODY);
        let hex = good.trim_start_matches(PREFIX);
        let cases = [
            // Bare hex without the scheme.
            hex.to_owned(),
            // Legacy X-Hub-Signature scheme.
            format!("sha1={hex}"),
            // Scheme is case-sensitive as Meta sends it.
            format!("SHA256={hex}"),
            "sha256=".to_owned(),
            "sha256=zz".to_owned(),
            // Right length, not hex.
            format!("sha256={}", "g".repeat(64)),
            // Truncated and overlong tags.
            format!("sha256={}", &hex[..62]),
            format!("sha256={hex}00"),
        ];
        for header in cases {
            assert!(
                matches!(
                    verify_signature(SECRET, BODY, Some(&header)),
                    Err(SignatureError::Malformed(_))
                ),
                "{header:?} should be malformed"
            );
        }
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let upper = format!(
            "{PREFIX}{}",
            sign(SECRET, BODY).trim_start_matches(PREFIX).to_uppercase()
        );
        assert_eq!(verify_signature(SECRET, BODY, Some(&upper)), Ok(()));
    }

    #[test]
    fn surrounding_whitespace_is_tolerated() {
        let header = format!(" {} ", sign(SECRET, BODY));
        assert_eq!(verify_signature(SECRET, BODY, Some(&header)), Ok(()));
    }

    #[test]
    fn sign_emits_lowercase_hex() {
        let header = sign(SECRET, BODY);
        let hex = header.trim_start_matches(PREFIX);
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
}
