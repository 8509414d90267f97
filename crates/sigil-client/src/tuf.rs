//! [`sigil_trust::tuf::Fetch`] over HTTP: TUF metadata and targets, read up to the byte limit the client
//! gives for each file and no further, however the server streams (SECURITY.md U-10).

use std::io::Read as _;

use sigil_trust::tuf::{Fetch, FetchError};

use crate::HttpClient;

impl Fetch for HttpClient {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        let resp = self
            .agent()
            .get(url)
            .call()
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        match resp.status().as_u16() {
            200 => {}
            // python-tuf and sigstore-js treat both as "no such file" (it ends the root version search).
            403 | 404 => return Err(FetchError::NotFound),
            s => return Err(FetchError::Transport(format!("HTTP {s}"))),
        }
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .take(max_len.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        if body.len() as u64 > max_len {
            return Err(FetchError::TooLarge(max_len));
        }
        Ok(body)
    }
}
