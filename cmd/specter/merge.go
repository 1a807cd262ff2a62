package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/store"
)

func newMergeCmd() *cobra.Command {
	var inf inferFlags
	var output string
	cmd := &cobra.Command{
		Use:   "merge [flags] OUT.db IN.db...  |  merge -o OUT.db IN.db...",
		Short: "Combine the inventories of several databases (sensors) into one",
		Long: `Merge adds the inventories of the IN databases into OUT (created with mode
0600 when missing): every service's evidence, operations, schemas,
statistics and examples are merged as if all the traffic had been analyzed
into one database, and the runs of each IN are copied with their database
as source. Each IN is merged in one transaction; OUT may already hold an
inventory. The IN databases are only read.`,
		Example: `  specter merge all.db sensor-a.db sensor-b.db
  specter merge -o all.db sensor-*.db`,
		Args: func(cmd *cobra.Command, args []string) error {
			if output != "" {
				return cobra.MinimumNArgs(1)(cmd, args)
			}
			return cobra.MinimumNArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" {
				// -o names the output, as in the other verbs that write a
				// file; the arguments are then all inputs.
				args = append([]string{output}, args...)
			}
			cfg, err := inf.inferConfig()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			outAbs, _ := filepath.Abs(args[0])
			for _, in := range args[1:] {
				if inAbs, _ := filepath.Abs(in); inAbs == outAbs {
					return usageError("merge: %s is both the output and an input", in)
				}
				if _, err := os.Stat(in); err != nil {
					return usageError("merge: %v", err)
				}
			}
			out, err := store.Open(ctx, args[0], store.Options{Config: cfg})
			if err != nil {
				return fatalError(err)
			}
			defer out.Close()
			for _, in := range args[1:] {
				src, err := store.OpenReadOnly(ctx, in, cfg)
				if err != nil {
					return fatalError(err)
				}
				err = out.MergeFrom(ctx, src)
				src.Close()
				if err != nil {
					return fatalError(err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "merged %s\n", in)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&inf.config, "config", "", "YAML inference config whose limits bound the merged inventory")
	cmd.Flags().StringVarP(&output, "output", "o", "", "the database to merge into (then every argument is an input)")
	preRun(cmd, func() error { _, err := inf.inferConfig(); return err })
	return cmd
}
