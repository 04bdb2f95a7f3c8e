// Command httpd is the Go HTTP server of the generalisation corpus
// (testdata/corpus): it serves a directory, takes uploads into another
// (written to a temporary file and renamed into place), logs each
// request to a file, and shuts down gracefully on SIGTERM.
//
//	httpd -addr 127.0.0.1:8080 -root site -uploads up -log access.log
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen on `ADDR`")
	root := flag.String("root", ".", "serve `DIR`")
	uploads := flag.String("uploads", "uploads", "store uploads in `DIR`")
	logFile := flag.String("log", "access.log", "append a line per request to `FILE`")
	flag.Parse()

	lf, err := os.OpenFile(*logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	defer lf.Close()
	access := log.New(lf, "", log.LstdFlags)

	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(*root)))
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Query().Get("name"))
		if name == "." || name == "/" {
			http.Error(w, "no name", http.StatusBadRequest)
			return
		}
		if err := store(filepath.Join(*uploads, name), r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "stored")
	})
	srv := &http.Server{Addr: *addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		access.Printf("%s %s", r.Method, r.URL)
		mux.ServeHTTP(w, r)
	})}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// store writes body to path through a temporary file beside it, so a
// reader never sees half an upload.
func store(path string, body io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
