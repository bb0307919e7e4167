package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
)

func init() {
	var n int
	var seed uint64
	var out, base string
	cmd := &cobra.Command{
		Use:   "sample",
		Short: "Write realistic approved registrations as NDJSON (synthetic people; valid check digits)",
		Example: `  ecert sample --n 100000 --out approvals.ndjson
  ecert sample --n 5 | jq .`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 0 {
				return fmt.Errorf("--n: must not be negative")
			}
			opt := sampledata.Options{Seed: seed}
			if base != "" {
				d, err := registration.ParseDate(base)
				if err != nil {
					return fmt.Errorf("--base: %w", err)
				}
				opt.Base = d
			}
			var w io.Writer = cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriterSize(w, 1<<20)
			enc := json.NewEncoder(bw)
			enc.SetEscapeHTML(false)
			const chunk = 10000
			for done := 0; done < n; done += chunk {
				opt.Offset = done
				for _, a := range sampledata.Generate(min(chunk, n-done), opt) {
					if err := enc.Encode(a); err != nil {
						return err
					}
				}
				opt.Seed++
			}
			return bw.Flush()
		},
	}
	cmd.Flags().IntVarP(&n, "n", "n", 100, "number of records")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed (same seed, same records)")
	cmd.Flags().StringVarP(&out, "out", "o", "-", "output file (- for stdout)")
	cmd.Flags().StringVar(&base, "base", "", "approval date of the first record, YYYY-MM-DD (default 2025-03-01)")
	rootCmd.AddCommand(cmd)
}
