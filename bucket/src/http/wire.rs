//! The Candid bytes of `http_request`'s argument and reply, by hand.
//!
//! candid's serde-based codec spent about 117 k instructions decoding a
//! gateway's request and about 100 k encoding a certified response with
//! its dozen headers (`depot-bench`, section 2's phases): more than the
//! read of a 1 MiB chunk. The shapes are fixed, so both are written here:
//! - a request whose type table is the one every Rust and JS agent sends
//!   for `HttpRequest` is read in one pass; any other encoding (other
//!   type tables, an older record without `certificate_version`) goes to
//!   candid, which stays the reference (`decode_request` returns `None`);
//! - a response is written as candid writes it, in three pieces so that
//!   a large body goes out from where it lies (`http::reply`).
//!
//! Tests compare both with candid on random values and every truncation.

use ic_http_certification::{HttpRequest, HttpResponse, Method};
use std::str::FromStr;

/// `DIDL`, the type table of `HttpRequest` and its one argument:
/// `record { url: text; method: text; body: blob; headers: vec record {
/// text; text }; certificate_version: opt nat16 }`, fields in hash order.
const REQUEST_PREFIX: &[u8] = &[
    0x44, 0x49, 0x44, 0x4c, 5, 0x6c, 5, 0xef, 0xd6, 0xe4, 0x02, 0x71, 0xe1, 0xed, 0xeb, 0x4a, 0x71, 0xa2, 0xf5, 0xed,
    0x88, 0x04, 1, 0xc6, 0xa4, 0xa1, 0x98, 0x06, 2, 0xb0, 0xf1, 0xb9, 0x98, 0x06, 4, 0x6d, 0x7b, 0x6d, 3, 0x6c, 2, 0,
    0x71, 1, 0x71, 0x6e, 0x7a, 1, 0,
];

/// `DIDL`, the type table of `HttpResponse` and its one argument:
/// `record { body: blob; headers: vec record { text; text }; upgrade: opt
/// bool; status_code: nat16 }`, fields in hash order.
const RESPONSE_PREFIX: &[u8] = &[
    0x44, 0x49, 0x44, 0x4c, 5, 0x6c, 4, 0xa2, 0xf5, 0xed, 0x88, 0x04, 1, 0xc6, 0xa4, 0xa1, 0x98, 0x06, 2, 0x9c, 0xe9,
    0xc6, 0x99, 0x06, 4, 0x9a, 0xa1, 0xb2, 0xf9, 0x0c, 0x7a, 0x6d, 0x7b, 0x6d, 3, 0x6c, 2, 0, 0x71, 1, 0x71, 0x6e,
    0x7e, 1, 0,
];

/// Reads values in place; every read checks the bytes left first.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    /// An unsigned LEB128 that fits a `usize` of 32 bits (every length or
    /// count in a message of at most a few MiB does).
    fn len(&mut self) -> Option<usize> {
        let mut value: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(value).ok().map(|v| v as usize);
            }
        }
        None
    }

    fn blob(&mut self) -> Option<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    fn text(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.blob()?).ok()
    }
}

/// The request, read in one pass when it has the usual type table; `None`
/// for anything else, which the caller hands to candid.
pub fn decode_request(raw: &[u8]) -> Option<HttpRequest<'_>> {
    let mut r = Reader { bytes: raw.strip_prefix(REQUEST_PREFIX)? };
    let url = r.text()?;
    let method = Method::from_str(r.text()?).ok()?;
    let body = r.blob()?;
    let count = r.len()?;
    // Each header takes at least two bytes: a count beyond what is left
    // is refused before anything is allocated for it.
    if count > r.bytes.len() / 2 {
        return None;
    }
    let mut headers = Vec::with_capacity(count);
    for _ in 0..count {
        let name = r.text()?;
        let value = r.text()?;
        headers.push((name.to_string(), value.to_string()));
    }
    let version = match r.byte()? {
        0 => None,
        1 => Some(u16::from_le_bytes(r.take(2)?.try_into().ok()?)),
        _ => return None,
    };
    if !r.bytes.is_empty() {
        return None;
    }
    let builder = HttpRequest::builder().with_method(method).with_url(url).with_headers(headers).with_body(body);
    Some(match version {
        Some(v) => builder.with_certificate_version(v).build(),
        None => builder.build(),
    })
}

/// A response's Candid encoding, in the order it is sent: `head` (type
/// table and the body's length), the body, then `tail` (headers, upgrade
/// and status).
pub struct EncodedResponse {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
}

pub fn encode_response(resp: &HttpResponse<'_>) -> EncodedResponse {
    let mut head = Vec::with_capacity(RESPONSE_PREFIX.len() + 5);
    head.extend_from_slice(RESPONSE_PREFIX);
    write_len(&mut head, resp.body().len());
    let header_bytes: usize = resp.headers().iter().map(|(k, v)| k.len() + v.len() + 10).sum();
    let mut tail = Vec::with_capacity(header_bytes + 10);
    write_len(&mut tail, resp.headers().len());
    for (name, value) in resp.headers() {
        write_len(&mut tail, name.len());
        tail.extend_from_slice(name.as_bytes());
        write_len(&mut tail, value.len());
        tail.extend_from_slice(value.as_bytes());
    }
    match resp.upgrade() {
        None => tail.push(0),
        Some(u) => tail.extend_from_slice(&[1, u as u8]),
    }
    tail.extend_from_slice(&resp.status_code().as_u16().to_le_bytes());
    EncodedResponse { head, tail }
}

fn write_len(out: &mut Vec<u8>, n: usize) {
    // Header names and values are nearly all shorter than 128 bytes.
    match u8::try_from(n) {
        Ok(b) if b < 0x80 => out.push(b),
        _ => leb128::write::unsigned(out, n as u64).map(drop).expect("writing to a Vec"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_http_certification::StatusCode;
    use proptest::prelude::*;

    fn candid_request(raw: &[u8]) -> Option<HttpRequest<'_>> {
        candid::decode_one::<HttpRequest>(raw).ok()
    }

    /// Method, URL, headers, body and certificate version.
    type Fields<'a> = (String, &'a str, &'a [(String, String)], &'a [u8], Option<u16>);

    fn fields<'a>(r: &'a HttpRequest<'a>) -> Fields<'a> {
        (r.method().to_string(), r.url(), r.headers(), r.body(), r.certificate_version())
    }

    #[test]
    fn prefixes_are_candids() {
        let req = candid::encode_one(HttpRequest::get("").build()).unwrap();
        // Values of an empty GET: url "", method "GET", body, headers, version.
        assert_eq!(req, [REQUEST_PREFIX, &[0, 3, b'G', b'E', b'T', 0, 0, 0]].concat());
        let resp = candid::encode_one(HttpResponse::builder().with_status_code(StatusCode::OK).build()).unwrap();
        assert_eq!(resp, [RESPONSE_PREFIX, &[0, 0, 0, 200, 0]].concat());
    }

    fn header() -> impl Strategy<Value = (String, String)> {
        ("\\PC{0,12}", "\\PC{0,40}")
    }

    fn request() -> impl Strategy<Value = HttpRequest<'static>> {
        let method = prop_oneof![Just(Method::GET), Just(Method::HEAD), Just(Method::OPTIONS), Just(Method::POST)];
        let url = "\\PC{0,300}";
        let body = proptest::collection::vec(any::<u8>(), 0..300);
        let version = proptest::option::of(any::<u16>());
        (method, url, proptest::collection::vec(header(), 0..20), body, version).prop_map(|(m, u, h, b, v)| {
            let builder = HttpRequest::builder().with_method(m).with_url(u).with_headers(h).with_body(b);
            match v {
                Some(v) => builder.with_certificate_version(v).build(),
                None => builder.build(),
            }
        })
    }

    proptest! {
        #[test]
        fn requests_decode_as_candid_decodes_them(req in request()) {
            let raw = candid::encode_one(&req).unwrap();
            let ours = decode_request(&raw).expect("the usual type table");
            let theirs = candid_request(&raw).unwrap();
            prop_assert_eq!(fields(&ours), fields(&theirs));
            // Every truncation and every appended byte is refused.
            for n in 0..raw.len() {
                prop_assert!(decode_request(&raw[..n]).is_none());
            }
            prop_assert!(decode_request(&[raw.as_slice(), &[0]].concat()).is_none());
        }

        #[test]
        fn changed_bytes_decode_as_candid_or_go_to_candid(req in request(), at in any::<prop::sample::Index>(), to in any::<u8>()) {
            let mut raw = candid::encode_one(&req).unwrap();
            let i = at.index(raw.len());
            raw[i] = to;
            // What the fast path accepts, candid reads the same way.
            if let Some(ours) = decode_request(&raw) {
                let theirs = candid_request(&raw).expect("candid accepts what the fast path does");
                prop_assert_eq!(fields(&ours), fields(&theirs));
            }
        }

        #[test]
        fn responses_encode_as_candid_encodes_them(
            status in prop_oneof![Just(200u16), Just(206), Just(304), Just(403), Just(416), Just(500)],
            headers in proptest::collection::vec(header(), 0..30),
            body in proptest::collection::vec(any::<u8>(), 0..2000),
            upgrade in proptest::option::of(any::<bool>()),
        ) {
            let builder = HttpResponse::builder()
                .with_status_code(StatusCode::from_u16(status).unwrap())
                .with_headers(headers)
                .with_body(body);
            let resp = match upgrade { Some(u) => builder.with_upgrade(u).build(), None => builder.build() };
            let e = encode_response(&resp);
            prop_assert_eq!([e.head.as_slice(), resp.body(), &e.tail].concat(), candid::encode_one(&resp).unwrap());
        }
    }

    #[test]
    fn body_lengths_across_leb128_boundaries_encode_as_candid() {
        for n in [127, 128, 16_383, 16_384, 1 << 20] {
            let resp = HttpResponse::builder().with_body(vec![7; n]).build();
            let e = encode_response(&resp);
            assert_eq!([e.head.as_slice(), resp.body(), &e.tail].concat(), candid::encode_one(&resp).unwrap());
        }
    }

    #[test]
    fn other_encodings_go_to_candid() {
        // The same request as the two-tuple's first value, a record without
        // `certificate_version` (what `HttpUpdateRequest` is), and lengths or
        // counts past the end of the message.
        let req = HttpRequest::get("/f/x").with_headers(vec![("a".into(), "b".into())]).build();
        assert!(decode_request(&candid::encode_args((&req, 1u8)).unwrap()).is_none());
        let update = candid::encode_one(HttpRequest::get("/f/x").build_update()).unwrap();
        assert!(decode_request(&update).is_none());
        let huge_count = [REQUEST_PREFIX, &[0, 3, b'G', b'E', b'T', 0, 0xff, 0xff, 0xff, 0xff, 0x0f]].concat();
        assert!(decode_request(&huge_count).is_none());
        let huge_url = [REQUEST_PREFIX, &[0xff, 0xff, 0xff, 0xff, 0x0f]].concat();
        assert!(decode_request(&huge_url).is_none());
        let long_leb = [REQUEST_PREFIX, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]].concat();
        assert!(decode_request(&long_leb).is_none());
        let bad_utf8 = [REQUEST_PREFIX, &[1, 0xff, 3, b'G', b'E', b'T', 0, 0, 0]].concat();
        assert!(decode_request(&bad_utf8).is_none() && candid_request(&bad_utf8).is_none());
        let bad_method = [REQUEST_PREFIX, &[0, 3, b'G', b' ', b'T', 0, 0, 0]].concat();
        assert!(decode_request(&bad_method).is_none());
        let bad_opt = [REQUEST_PREFIX, &[0, 3, b'G', b'E', b'T', 0, 0, 2]].concat();
        assert!(decode_request(&bad_opt).is_none() && candid_request(&bad_opt).is_none());
    }
}
