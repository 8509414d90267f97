//! The [`Authenticator`] backed by `sigil-oidc`: validate the token (fetching the issuer's keys when needed), then
//! map its claims to the certificate identity.

use sigil_oidc::fetch::{AsyncValidator, JwksSource};
use sigil_oidc::{CertIdentity, cert_identity};

use crate::{Authenticator, BoxFuture, Error};

/// OIDC validation for the CA.
#[derive(Debug)]
pub struct OidcAuthenticator<S> {
    validator: AsyncValidator<S>,
}

impl<S> OidcAuthenticator<S> {
    pub fn new(validator: AsyncValidator<S>) -> Self {
        Self { validator }
    }
}

/// Which answer a validation failure gets: malformed or unacceptable identity values are the client's input
/// (400); anything about the token's authenticity is 401; a failed key fetch is a dependency failure (503).
fn classify(e: sigil_oidc::Error) -> Error {
    use sigil_oidc::Error as E;
    match e {
        E::InvalidIdentity(_) | E::ClaimTooLarge(_) | E::TokenTooLarge { .. } => {
            Error::BadRequest(format!("identity token: {e}"))
        }
        E::Fetch(_) | E::Timeout => Error::Unavailable(format!("identity provider: {e}")),
        other => Error::Unauthenticated(other.to_string()),
    }
}

impl<S: JwksSource + std::fmt::Debug + 'static> Authenticator for OidcAuthenticator<S> {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<CertIdentity, Error>> {
        Box::pin(async move {
            let now = crate::fulcio_api::unix_now();
            let verified = self.validator.validate(token, now).await.map_err(classify)?;
            cert_identity(self.validator.validator().config(), &verified).map_err(classify)
        })
    }
}
