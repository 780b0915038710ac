package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrExists is returned by Backup when the destination exists and
// overwriting was not asked for.
var ErrExists = errors.New("file exists")

// BackupOptions adjust Backup.
type BackupOptions struct {
	// Overwrite replaces an existing destination file.
	Overwrite bool
}

// Backup writes a consistent copy of the database to path while other
// connections (a run, the daemon) keep writing.
//
// The copy is made with SQLite's VACUUM INTO, which reads the database in
// one read transaction: the copy is the database as of one commit, never
// half of a transaction (an outcome without its audit entry, say). In WAL
// mode that read transaction does not block writers, and writers do not
// block it. The copy is one self-contained file (no -wal or -shm), holds
// only live pages (nothing deleted survives in free pages), and the tokens
// in it are sealed as in the original: it is as secret as the original and
// no more, and it is created with mode 0600.
//
// The copy is written to a private temporary directory beside path,
// checked (PRAGMA integrity_check), synced to disk, and renamed into place,
// so path is either absent, the old file or the complete, checked copy,
// never a partial one.
//
// Returns an error wrapping ErrExists when path exists and
// opts.Overwrite is false, and an error when path is the database itself
// or its directory cannot be written.
func (s *Store) Backup(ctx context.Context, path string, opts BackupOptions) error {
	if err := s.backup(ctx, path, opts); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

func (s *Store) backup(ctx context.Context, path string, opts BackupOptions) error {
	if path == "" {
		return errors.New("no destination file given")
	}
	if strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") {
		return errors.New("want a plain file path")
	}
	if same, err := sameFile(path, s.path); err != nil {
		return err
	} else if same {
		return errors.New("the destination is the database itself")
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return &fs.PathError{Op: "backup", Path: path, Err: errors.New("not a regular file")}
	case !opts.Overwrite:
		return ErrExists
	}

	tmpDir, err := os.MkdirTemp(filepath.Dir(path), ".velqbo-backup-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "velqbo.db")
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("vacuum into: %w", err)
	}
	if err := checkFile(ctx, tmp); err != nil {
		return fmt.Errorf("the copy failed its check: %w", err)
	}
	if err := syncPrivate(tmp); err != nil {
		return err
	}
	if !opts.Overwrite {
		// The destination may have appeared while the copy was written.
		if _, err := os.Lstat(path); err == nil {
			return ErrExists
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// IntegrityCheck runs SQLite's PRAGMA integrity_check on the database and
// returns an error listing the problems it reports, if any.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if err := integrityCheck(ctx, s.db); err != nil {
		return fmt.Errorf("integrity check of %s: %w", s.path, err)
	}
	return nil
}

func integrityCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// checkFile runs integrity_check on the database file at path through a
// connection of its own; its -wal and -shm, if any, go when it closes.
func checkFile(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	return integrityCheck(ctx, db)
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// syncPrivate makes path mode 0600 and flushes it to disk: VACUUM INTO
// creates the file with the process's umask and does not sync it.
func syncPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir flushes a directory entry (the rename) to disk. Some
// filesystems refuse fsync on a directory; the copy itself is synced then,
// and only the rename's durability is left to the OS, so the error is
// ignored.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}
