// Package contentsuite runs containerd's own content store test suite
// (github.com/containerd/containerd/content/testsuite) against a content
// service on a Unix socket, the way containerd uses a content proxy plugin.
//
// The socket is named by COFFER_CONTENT_SOCKET. The test binary is built by
// build.sh and run one case at a time by ContainerdContentSuiteIT, each case
// against a fresh server:
//
//	TestProxy:            ContentSuite through containerd's proxy client
//	TestMetadata:         ContentSuite and the shared cross-namespace suite
//	                      behind containerd's metadata layer (bolt database in
//	                      the case's temporary directory)
//	TestMetadataIsolated: the isolated cross-namespace suite, likewise
package contentsuite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/content/proxy"
	"github.com/containerd/containerd/content/testsuite"
	"github.com/containerd/containerd/metadata"
	"github.com/containerd/containerd/namespaces"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
)

// proxyStore dials the server under test; the context carries no namespace.
func proxyStore(ctx context.Context, root string) (context.Context, content.Store, func() error, error) {
	socket := os.Getenv("COFFER_CONTENT_SOCKET")
	if socket == "" {
		return nil, nil, nil, fmt.Errorf("COFFER_CONTENT_SOCKET is not set")
	}
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(dialCtx, "unix://"+socket,
		grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("dial %s: %w", socket, err)
	}
	return ctx, proxy.NewContentStore(contentapi.NewContentClient(conn)), conn.Close, nil
}

// metadataStore puts containerd's metadata layer in front of the proxy
// client, as containerd does, with one namespace per context the suite wraps
// (as containerd's own metadata tests do).
func metadataStore(opts ...metadata.DBOpt) testsuite.StoreInitFn {
	return func(ctx context.Context, root string) (context.Context, content.Store, func() error, error) {
		ctx, backend, closeConn, err := proxyStore(ctx, root)
		if err != nil {
			return nil, nil, nil, err
		}
		db, err := bolt.Open(filepath.Join(root, "metadata.db"), 0600, nil)
		if err != nil {
			closeConn()
			return nil, nil, nil, err
		}
		var (
			count uint64
			name  = testsuite.Name(ctx)
		)
		wrap := func(ctx context.Context) (context.Context, func(context.Context) error, error) {
			n := atomic.AddUint64(&count, 1)
			return namespaces.WithNamespace(ctx, fmt.Sprintf("%s-n%d", name, n)),
				func(context.Context) error { return nil }, nil
		}
		ctx = testsuite.SetContextWrapper(ctx, wrap)
		return ctx, metadata.NewDB(db, backend, nil, opts...).ContentStore(), func() error {
			dbErr := db.Close()
			if err := closeConn(); err != nil {
				return err
			}
			return dbErr
		}, nil
	}
}

func TestProxy(t *testing.T) {
	testsuite.ContentSuite(t, "proxy", proxyStore)
}

func TestMetadata(t *testing.T) {
	testsuite.ContentSuite(t, "metadata", metadataStore())
	testsuite.ContentCrossNSSharedSuite(t, "metadata", metadataStore())
}

func TestMetadataIsolated(t *testing.T) {
	testsuite.ContentCrossNSIsolatedSuite(t, "metadata", metadataStore(metadata.WithPolicyIsolated))
}
