// Command ecert issues, signs, stores and verifies electronic registration
// certificates (电子注册证书) for second-class constructors (二级建造师).
//
// Each subcommand lives in its own file and registers itself on rootCmd in an
// init function.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:           "ecert",
	Short:         "Electronic registration certificates for second-class constructors (二级建造师电子注册证书)",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError carries a specific exit code out of a subcommand (e.g. verify: 1 = a check failed).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := rootCmd.ExecuteContext(ctx)
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(os.Stderr, "ecert:", ee.err)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "ecert:", err)
	os.Exit(1)
}
