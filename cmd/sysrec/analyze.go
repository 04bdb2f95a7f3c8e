package main

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/analyze"
	"github.com/sysrec/sysrec/pipeline"
)

type analyzeOptions struct {
	json        bool
	arch        string
	output      string
	cacheDir    string
	noCache     bool
	libraryPath string
	noPlugins   bool
}

func analyzeCmd(io stdio) *cobra.Command {
	var o analyzeOptions
	c := &cobra.Command{
		Use:     "analyze [--json] [--arch A] BINARY...",
		Short:   "List the syscalls a binary and its libraries can reach, without running it",
		Long:    help("analyze.long"),
		Example: help("analyze.example"),
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(io, o, args)
		},
	}
	c.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	c.Flags().StringVar(&o.arch, "arch", "", "the binary's architecture, checked (x86_64; default: the binary's own)")
	c.Flags().StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of stdout")
	c.Flags().StringVar(&o.cacheDir, "cache-dir", "", "cache library summaries in `DIR` (default: the user cache directory)")
	c.Flags().BoolVar(&o.noCache, "no-cache", false, "analyse every file afresh and cache nothing")
	c.Flags().StringVar(&o.libraryPath, "library-path", "", "search `DIRS` (colon-separated) first, as ld.so does LD_LIBRARY_PATH")
	c.Flags().BoolVar(&o.noPlugins, "no-plugins", false, "do not follow NSS, gconv and unwinder modules libc loads with dlopen")
	return c
}

func runAnalyze(io stdio, o analyzeOptions, binaries []string) error {
	if err := pipeline.CheckOutput(o.output); err != nil {
		return err
	}
	opts := analyze.Options{
		Arch:      o.arch,
		CacheDir:  o.cacheDir,
		NoCache:   o.noCache,
		NoPlugins: o.noPlugins,
	}
	if o.libraryPath != "" {
		opts.LibraryPath = filepath.SplitList(o.libraryPath)
	}
	var results []*analyze.Result
	for _, b := range binaries {
		r, err := analyze.Binary(b, opts)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	out, err := analyze.Format(results, o.json)
	if err != nil {
		return err
	}
	return pipeline.WriteOutput(io.out, o.output, out)
}
