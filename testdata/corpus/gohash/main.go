// Command gohash is a Go command-line program of the generalisation
// corpus (testdata/corpus): it walks directories, hashes every regular
// file (following symlinks to files, as a backup tool does) and writes a
// JSON report.
//
//	gohash -o report.json DIR...
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

type entry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func main() {
	out := flag.String("o", "report.json", "write the report to `FILE`")
	flag.Parse()
	var entries []entry
	for _, dir := range flag.Args() {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			info, err := os.Stat(path)
			if err != nil || !info.Mode().IsRegular() {
				return nil // a broken link or a link to a directory
			}
			sum, err := hashFile(path)
			if err != nil {
				return err
			}
			entries = append(entries, entry{Path: path, Size: info.Size(), SHA256: sum})
			return nil
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "gohash: %v\n", err)
			os.Exit(1)
		}
	}
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		fmt.Fprintf(os.Stderr, "gohash: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "gohash: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d files\n", len(entries))
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
