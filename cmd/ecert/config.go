package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

// globalConfig holds settings shared by every subcommand. Precedence:
// command-line flag > environment variable (ECERT_<FLAG>, dashes as
// underscores) > built-in default.
type globalConfig struct {
	DataDir    string
	Database   string
	Extensions string
	LogLevel   string
}

var global globalConfig

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&global.DataDir, "data-dir", "./data", "directory for the embedded defaults (SQLite registry, object files, development keys)")
	pf.StringVar(&global.Database, "database", "", "registry database: a PostgreSQL URL (postgres://…) or an SQLite path (default <data-dir>/ecert.db)")
	pf.StringVar(&global.Extensions, "extensions", "", "JSON file of additional policy extensions of registration validity")
	pf.StringVar(&global.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	rootCmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := applyEnv(cmd.Flags()); err != nil {
			return err
		}
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(global.LogLevel)); err != nil {
			return fmt.Errorf("--log-level: %w", err)
		}
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})))
		return nil
	}
}

// applyEnv sets every flag not given on the command line from ECERT_<NAME>.
func applyEnv(fs *pflag.FlagSet) error {
	var firstErr error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		env := "ECERT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				firstErr = fmt.Errorf("%s: %w", env, err)
			}
		}
	})
	return firstErr
}

func (g globalConfig) databaseDSN() string {
	if g.Database != "" {
		return g.Database
	}
	return "sqlite:" + filepath.Join(g.DataDir, "ecert.db")
}

func openRegistry(ctx context.Context) (*registry.Registry, error) {
	return registry.Open(ctx, global.databaseDSN(), registry.Options{})
}

// policy returns the rules' policy: embedded extensions plus the --extensions file.
func (g globalConfig) policy() (registration.Policy, error) {
	p := registration.DefaultPolicy()
	if g.Extensions == "" {
		return p, nil
	}
	f, err := os.Open(g.Extensions)
	if err != nil {
		return p, fmt.Errorf("--extensions: %w", err)
	}
	defer f.Close()
	more, err := registration.LoadExtensions(f)
	if err != nil {
		return p, fmt.Errorf("--extensions %s: %w", g.Extensions, err)
	}
	p.Extensions = append(p.Extensions, more...)
	return p, nil
}
