// Command ferretdb-test-server runs FerretDB (a MongoDB wire-protocol server on SQLite) embedded as a
// library, for the test suite when no mongod is available. It listens on the address given by -listen,
// keeps its data in -dir, prints "ready <uri>" on stdout once the listener accepts connections, and
// stops on SIGTERM/SIGINT.
//
// The library is embedded rather than `go install`ed because the released command panics at start
// when built from the module proxy (its version file is not part of the module).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "", "directory for the SQLite data files")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// MongoDBURI() may deadlock before Run has started, so readiness is probed by dialling the address.
	for {
		select {
		case err := <-done:
			log.Fatalf("ferretdb stopped before it was ready: %v", err)
		default:
		}
		conn, err := net.DialTimeout("tcp", *listen, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("ready mongodb://%s/\n", *listen)

	if err := <-done; err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}
