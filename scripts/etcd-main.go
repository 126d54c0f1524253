// Command etcd-wrapper is etcd's own server entry point (etcdmain), built from the Go module
// proxy at the version scripts/build-etcd.sh names.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
