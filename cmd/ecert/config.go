package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ecert/ecert/internal/app"
	"github.com/ecert/ecert/storage/registry"
)

// conf is the one configuration value every subcommand builds the service
// from (internal/app), bound to the persistent flags. Precedence:
// command-line flag > environment variable (ECERT_<FLAG>, dashes as
// underscores) > built-in default.
var conf app.Config

// logLevel is --log-level.
var logLevel string

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&conf.DataDir, "data-dir", "./data", "directory for the embedded defaults (SQLite registry, object files, development keys)")
	pf.StringVar(&conf.Database, "database", "", "registry database: a PostgreSQL URL (postgres://…) or an SQLite path (default <data-dir>/ecert.db)")
	pf.StringVar(&conf.Extensions, "extensions", "", "JSON file of additional policy extensions of registration validity")
	pf.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	rootCmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := applyEnv(cmd.Flags()); err != nil {
			return err
		}
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
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

func openRegistry(ctx context.Context) (*registry.Registry, error) {
	return app.OpenRegistry(ctx, conf)
}
