//! Where the HS256 secret comes from when none is configured: a SQLite node
//! keeps a generated one in a file beside its database, so that development
//! needs no set-up and tokens survive restarts; a PostgreSQL deployment must
//! be given one, since its processes share no disk.

use std::io::Write;
use std::path::PathBuf;

use concord_auth::{KeyAlgorithm, generate_secret};
use secrecy::{ExposeSecret, SecretString};

use crate::settings::Settings;

/// Why no secret could be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no JWT key is configured for this PostgreSQL deployment: set CONCORD__AUTH__JWT_SECRET \
         (32 bytes or more, the same on every node process), or configure auth.algorithm with \
         auth.public_keys or auth.jwks_file"
    )]
    Missing,
    #[error("cannot read or write the JWT secret file {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The SQLite database file a URL names, unless it is in memory.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// The secret file used beside a SQLite database.
pub fn secret_path(settings: &Settings) -> Option<PathBuf> {
    sqlite_file(&settings.database.url).map(|db| {
        let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".jwt-secret");
        db.with_file_name(name)
    })
}

/// The HS256 secret to use when the settings hold none: read from, or first
/// written to, the file beside the SQLite database. `None` when the settings
/// already say how to verify tokens.
pub fn fallback_secret(settings: &Settings) -> Result<Option<SecretString>, SecretError> {
    if settings.auth.algorithm != KeyAlgorithm::HS256 || settings.auth.jwt_secret.is_some() {
        return Ok(None);
    }
    if settings.database.url.starts_with("sqlite:") && sqlite_file(&settings.database.url).is_none()
    {
        tracing::warn!(
            "in-memory database: using a JWT secret that lasts only as long as this process"
        );
        return Ok(Some(generate_secret()));
    }
    let Some(path) = secret_path(settings) else {
        return Err(SecretError::Missing);
    };
    let file_error = |source| SecretError::File {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(Some(SecretString::from(text.trim().to_owned()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(file_error(error)),
    }
    let secret = generate_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(file_error)?;
    file.write_all(secret.expose_secret().as_bytes())
        .map_err(file_error)?;
    tracing::info!(
        path = %path.display(),
        "no JWT secret configured: generated one and stored it beside the database (mode 0600); \
         set CONCORD__AUTH__JWT_SECRET to choose your own"
    );
    Ok(Some(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_file_sits_beside_the_database() {
        let mut settings = Settings::default();
        settings.database.url = "sqlite:///var/lib/concord/c.db?mode=rwc".into();
        assert_eq!(
            secret_path(&settings).unwrap(),
            PathBuf::from("/var/lib/concord/c.db.jwt-secret")
        );
        settings.database.url = "postgres://x@y/z".into();
        assert!(secret_path(&settings).is_none());
        assert!(matches!(
            fallback_secret(&settings),
            Err(SecretError::Missing)
        ));
    }

    #[test]
    fn a_generated_secret_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        settings.database.url = format!("sqlite://{}", dir.path().join("c.db").display());
        let first = fallback_secret(&settings).unwrap().unwrap();
        let again = fallback_secret(&settings).unwrap().unwrap();
        assert_eq!(first.expose_secret(), again.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(secret_path(&settings).unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        settings.auth.jwt_secret = Some(SecretString::from("x".repeat(32)));
        assert!(fallback_secret(&settings).unwrap().is_none());
    }
}
