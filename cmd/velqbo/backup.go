package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/velqbo/velqbo/schema"
)

// backupView is `velqbo backup --json`.
type backupView struct {
	Database   string    `json:"database"`
	File       string    `json:"file"`
	Bytes      int64     `json:"bytes"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

func backupCommand() command {
	var force, asJSON bool
	return command{
		name: "backup",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&force, "force", false, "replace FILE if it exists")
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return usageErrorf("backup takes one FILE")
			}
			v, err := m.backup(ctx, args[0], force)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, v)
			}
			fmt.Fprintf(m.Stdout, "backed up %s to %s (%d bytes, taken at %s)\n", v.Database, v.File, v.Bytes, v.StartedAt.Format(time.RFC3339))
			return nil
		},
	}
}

// backup copies the configured database to file. It takes no lease: the
// copy is one read transaction, which neither waits for a run nor stops
// one. Refusing to overwrite is exit code 2; a missing database or a
// failed copy is exit code 3.
func (m *Main) backup(ctx context.Context, file string, force bool) (*backupView, error) {
	// openStore creates nothing: a mistyped --db is "no database at".
	st, err := m.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	v := &backupView{Database: m.Config.DB, File: file, StartedAt: m.Now()}
	if err := st.Backup(ctx, file, schema.BackupOptions{Overwrite: force}); err != nil {
		if errors.Is(err, schema.ErrExists) {
			return nil, usageErrorf("%v (--force replaces it)", err)
		}
		return nil, unavailable(err)
	}
	v.FinishedAt = m.Now()
	if fi, err := os.Stat(file); err == nil {
		v.Bytes = fi.Size()
	}
	return v, nil
}
