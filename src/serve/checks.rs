//! What the dev server refuses before it looks at a request's path: methods other than GET and
//! HEAD, overlong URLs, and (when it listens on loopback) requests for a host name that is not
//! a loopback name, which is how a DNS rebinding attack from a web page reaches a local server.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest request target the server reads further (browsers stay far below it).
pub(super) const MAX_URL: usize = 8 * 1024;

/// Methods the preview answers; anything else gets 405 with this as `Allow`.
pub(super) const ALLOWED_METHODS: &str = "GET, HEAD";

/// Why a request is refused before routing, with its status and explanation.
pub(super) struct Refusal {
    pub status: u16,
    pub text: String,
}

/// Checks method, URL length and `Host`; `loopback_only` when the server listens on loopback
/// (`site`: the site's path there, e.g. `1111/portal/`, for the explanation).
pub(super) fn refuse(
    request: &tiny_http::Request,
    loopback_only: bool,
    site: &str,
) -> Option<Refusal> {
    use tiny_http::Method;
    if !matches!(request.method(), Method::Get | Method::Head) {
        return Some(Refusal {
            status: 405,
            text: format!(
                "method {} not allowed: wegweiser serve only answers {ALLOWED_METHODS}\n",
                request.method()
            ),
        });
    }
    if request.url().len() > MAX_URL {
        return Some(Refusal {
            status: 414,
            text: format!("the request URL is longer than {MAX_URL} bytes\n"),
        });
    }
    let hosts: Vec<&str> = request
        .headers()
        .iter()
        .filter(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str())
        .collect();
    if hosts.len() > 1 {
        return Some(Refusal {
            status: 400,
            text: "more than one Host header\n".into(),
        });
    }
    // A browser always names the host; without one there is nothing a rebinding could abuse.
    let host = hosts.first()?;
    (loopback_only && !is_loopback_host(host)).then(|| Refusal {
        status: 403,
        text: foreign_host_text(host, site),
    })
}

fn foreign_host_text(host: &str, site: &str) -> String {
    let shown: String = host.escape_debug().collect();
    format!(
        "wegweiser serve refused this request for the host \"{shown}\": the preview listens on \
         loopback and only answers requests for localhost, *.localhost, 127.x.x.x or [::1], so \
         that a web page cannot reach it through DNS rebinding.\n\
         Open it as http://localhost:{site} or http://127.0.0.1:{site}, or, to reach it under \
         another name, start it with --bind <address> (it then answers any host name).\n"
    )
}

/// Whether a `Host` header value (`name`, `name:port`, `[v6]:port`) names this machine's
/// loopback interface.
pub(super) fn is_loopback_host(value: &str) -> bool {
    if let Some(rest) = value.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok
            && ip
                .parse::<Ipv6Addr>()
                .is_ok_and(|ip| ip.to_canonical().is_loopback());
    }
    let name = match value.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return false,
        None => value,
    };
    // `localhost.` is the same name, written fully qualified.
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return ip.is_loopback();
    }
    let labels_ok = name
        .split('.')
        .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    labels_ok && (name == "localhost" || name.ends_with(".localhost"))
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u16>().is_ok()
}

/// Decodes `%XX` escapes; `None` for a malformed escape or a result that is not UTF-8.
pub(super) fn percent_decode(s: &str) -> Option<String> {
    // Two hex digits exactly after every `%`: the crate passes a malformed escape through as
    // it is, and the preview refuses such a URL instead of guessing.
    let well_formed = s.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_are_accepted() {
        for host in [
            "localhost",
            "LOCALHOST:1111",
            "localhost.",
            "localhost.:8080",
            "vorschau.localhost",
            "a.b.localhost:1",
            "127.0.0.1",
            "127.0.0.1:1111",
            "127.1.2.3:65535",
            "[::1]",
            "[::1]:1111",
            "[::ffff:127.0.0.1]:1111",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn other_names_are_refused() {
        for host in [
            "",
            "evil.example",
            "evil.example:1111",
            "localhost.evil.example",
            "evillocalhost",
            "localhost:",
            "localhost:abc",
            "localhost:99999",
            "localhost:1:2",
            ".localhost",
            "a..localhost",
            "a_b.localhost",
            "127.1",
            "128.0.0.1",
            "0.0.0.0",
            "10.0.0.1:1111",
            "[::2]:1111",
            "[::1",
            "[::1]x",
            "[::1]:",
            "::1",
            "[fe80::1]",
            "localhost/x",
            "user@localhost",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn percent_escapes_need_two_hex_digits() {
        assert_eq!(percent_decode("/a%20b").as_deref(), Some("/a b"));
        assert_eq!(percent_decode("/%C3%9Cber").as_deref(), Some("/Über"));
        assert_eq!(percent_decode("/%2e%2E%2f").as_deref(), Some("/../"));
        assert_eq!(percent_decode("/%+f"), None);
        assert_eq!(percent_decode("/%-1"), None);
        assert_eq!(percent_decode("/% f"), None);
        assert_eq!(percent_decode("/%"), None);
        assert_eq!(percent_decode("/%4"), None);
        assert_eq!(percent_decode("/%zz"), None);
        assert_eq!(percent_decode("/%%41"), None);
        assert_eq!(percent_decode("/a%4"), None);
        assert_eq!(percent_decode("/%41%"), None);
        assert_eq!(percent_decode("/plain").as_deref(), Some("/plain"));
        // Not UTF-8: an overlong `.`, a lone continuation byte, a truncated sequence.
        assert_eq!(percent_decode("/%c0%ae"), None);
        assert_eq!(percent_decode("/%80"), None);
        assert_eq!(percent_decode("/%e2%82"), None);
        assert_eq!(percent_decode("/%ff"), None);
    }
}
