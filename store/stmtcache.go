package store

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps SQLite statements prepared, so that a statement run
// again — on any connection, in any transaction — is not parsed again:
// the pure-Go SQLite spends more time parsing a short statement than
// running it. database/sql prepares a cached statement once per
// connection and reuses it there. PostgreSQL needs none of this: pgx keeps
// its own statement cache per connection.
//
// The cache is bounded (queries built per viewer and filter come in many
// texts); the least recently used statement is closed once nobody holds it.
type stmtCache struct {
	mu    sync.Mutex
	max   int
	byQ   map[string]*list.Element
	order *list.List // front: most recently used
}

type cachedStmt struct {
	q       string
	stmt    *sql.Stmt
	refs    int
	evicted bool
}

const stmtCacheSize = 256

// acquire returns the prepared statement for q and a release to call once
// the statement has been executed (open rows keep what they need
// themselves), or nil when q is not cached.
func (c *stmtCache) acquire(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, func()) {
	c.mu.Lock()
	if c.byQ == nil {
		c.byQ, c.order, c.max = map[string]*list.Element{}, list.New(), stmtCacheSize
	}
	e, ok := c.byQ[q]
	if !ok {
		c.mu.Unlock()
		stmt, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil, nil // let the caller run it unprepared and report the error
		}
		c.mu.Lock()
		if e, ok = c.byQ[q]; ok { // another goroutine got there first
			defer stmt.Close()
		} else {
			e = c.order.PushFront(&cachedStmt{q: q, stmt: stmt})
			c.byQ[q] = e
			c.evict()
		}
	}
	cs := e.Value.(*cachedStmt)
	c.order.MoveToFront(e)
	cs.refs++
	c.mu.Unlock()
	return cs.stmt, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		cs.refs--
		if cs.evicted && cs.refs == 0 {
			cs.stmt.Close()
		}
	}
}

// evict drops the least recently used statements over the bound; one in
// use is closed by its last release. Called with mu held.
func (c *stmtCache) evict() {
	for c.order.Len() > c.max {
		e := c.order.Back()
		cs := e.Value.(*cachedStmt)
		c.order.Remove(e)
		delete(c.byQ, cs.q)
		cs.evicted = true
		if cs.refs == 0 {
			cs.stmt.Close()
		}
	}
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.order == nil {
		return
	}
	for e := c.order.Front(); e != nil; e = e.Next() {
		e.Value.(*cachedStmt).stmt.Close()
	}
	c.byQ, c.order = nil, nil
}
