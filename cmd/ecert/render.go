package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/registration"
)

func init() {
	var format, record, out, copyFrom, copyUntil, purpose, serial, tmplFile string
	cmd := &cobra.Command{
		Use:   "render --format ofd|pdf --record FILE [--out FILE] [--copy-from DATE --copy-until DATE --purpose TEXT]",
		Short: "Render an unsigned certificate (or usage copy) from a JSON record to OFD or PDF",
		Long: `Render writes the unsigned certificate described by a JSON record (see
docs/rendering.md) as OFD or PDF. With --copy-from and --copy-until it renders
a usage copy (加注件) carrying the usage validity, a copy serial, the purpose
and a diagonal watermark. Exit code 2: bad arguments or record.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "ofd" && format != "pdf" {
				return &exitError{2, fmt.Errorf("render: --format must be ofd or pdf, not %q", format)}
			}
			if record == "" {
				return &exitError{2, errors.New("render: --record FILE is required")}
			}
			f, err := os.Open(record)
			if err != nil {
				return &exitError{2, fmt.Errorf("render: %w", err)}
			}
			c, err := certgen.ParseRecord(f)
			f.Close()
			if err != nil {
				return &exitError{2, fmt.Errorf("render: %s: %w", record, err)}
			}
			if copyFrom != "" || copyUntil != "" {
				from, err1 := registration.ParseDate(copyFrom)
				until, err2 := registration.ParseDate(copyUntil)
				if err := errors.Join(err1, err2); err != nil {
					return &exitError{2, fmt.Errorf("render: --copy-from and --copy-until need YYYY-MM-DD dates: %w", err)}
				}
				if serial == "" {
					serial = "COPY-" + strings.ReplaceAll(from.String(), "-", "")
				}
				c.Copy = &certgen.UsageCopy{Serial: serial, ValidFrom: from, ValidUntil: until, Purpose: purpose}
				if err := c.Validate(); err != nil {
					return &exitError{2, fmt.Errorf("render: %w", err)}
				}
			}
			opt := certgen.Options{VerifyBaseURL: strings.TrimRight(conf.VerifyBaseURL, "/")}
			var r *certgen.Renderer
			if tmplFile != "" {
				t, err := certgen.LoadTemplate(os.DirFS(filepath.Dir(tmplFile)), filepath.Base(tmplFile))
				if err != nil {
					return &exitError{2, fmt.Errorf("render: %w", err)}
				}
				r, err = certgen.New(t, opt)
				if err != nil {
					return &exitError{2, fmt.Errorf("render: %w", err)}
				}
			} else if r, err = certgen.NewDefault(opt); err != nil {
				return fmt.Errorf("render: %w", err)
			}
			var data []byte
			if format == "pdf" {
				data, err = r.PDF(cmd.Context(), c)
			} else {
				data, err = r.OFD(cmd.Context(), c)
			}
			if err != nil {
				if errors.Is(err, certgen.ErrInvalid) {
					return &exitError{2, fmt.Errorf("render: %w", err)}
				}
				return fmt.Errorf("render: %w", err)
			}
			if out == "" {
				out = strings.TrimSuffix(filepath.Base(record), filepath.Ext(record)) + "." + format
			}
			if out == "-" {
				_, err = os.Stdout.Write(data)
			} else {
				err = os.WriteFile(out, data, 0o644)
			}
			if err != nil {
				return fmt.Errorf("render: writing %s: %w", out, err)
			}
			if out != "-" {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d bytes)\n", out, len(data))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "pdf", "output format: ofd or pdf")
	fl.StringVar(&record, "record", "", "JSON certificate record (docs/rendering.md)")
	fl.StringVar(&out, "out", "", "output file (default: record name with .ofd/.pdf; - for stdout)")
	fl.StringVar(&copyFrom, "copy-from", "", "usage copy: first day of usage validity (YYYY-MM-DD)")
	fl.StringVar(&copyUntil, "copy-until", "", "usage copy: last day of usage validity (YYYY-MM-DD)")
	fl.StringVar(&purpose, "purpose", "", "usage copy: purpose (用途) printed on the copy")
	fl.StringVar(&serial, "copy-serial", "", "usage copy: serial (default derived from --copy-from)")
	fl.StringVar(&tmplFile, "template", "", "template JSON file (default: built-in 二级建造师注册证书)")
	rootCmd.AddCommand(cmd)
}
