//! The files of `sims backup` and `sims restore` (the archive itself is
//! [`sims_persistence::backup`]'s).

use std::path::Path;

use sims_persistence::Database;
use sims_persistence::backup::{self, BackupError, Summary};

use crate::startup::StartupError;

/// Writes the archive to `path` (`-`: standard output). A file is written under a
/// temporary name beside it and renamed once whole, so a failed backup never leaves a
/// file that looks like one.
pub async fn write(db: &Database, path: &Path) -> Result<Summary, StartupError> {
    if path.as_os_str() == "-" {
        return backup::backup(db, std::io::stdout().lock())
            .await
            .map_err(failed);
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let file = std::fs::File::create(&partial)
        .map_err(|e| StartupError::Other(format!("cannot create {}: {e}", partial.display())))?;
    match backup::backup(db, &file).await {
        Ok(summary) => {
            file.sync_all()
                .and_then(|()| std::fs::rename(&partial, path))
                .map_err(|e| {
                    StartupError::Other(format!("cannot write {}: {e}", path.display()))
                })?;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(failed(e))
        }
    }
}

/// Restores the archive at `path` (`-`: standard input).
pub async fn read(db: &Database, path: &Path) -> Result<Summary, StartupError> {
    if path.as_os_str() == "-" {
        return backup::restore(db, std::io::stdin().lock())
            .await
            .map_err(failed);
    }
    let file = std::fs::File::open(path)
        .map_err(|e| StartupError::Other(format!("cannot open {}: {e}", path.display())))?;
    backup::restore(db, file).await.map_err(failed)
}

fn failed(e: BackupError) -> StartupError {
    StartupError::Other(e.to_string())
}
