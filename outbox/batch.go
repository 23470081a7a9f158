package outbox

import (
	"context"
	"errors"
	"sync"

	"kyoyu/store"
)

// sendMails carries out a batch of e-mail jobs: they are checked and
// rendered together (a few queries for the batch), sent over up to Conns
// SMTP connections, each carrying message after message, and every
// accepted message is recorded done by a group commit as soon as it is
// accepted — the answers that arrive while one commit is being written go
// in the next. Refusals, drops and failures are recorded one by one.
func (w *Worker) sendMails(ctx context.Context, m SessionMailer, jobs []*store.Job) {
	ready := w.prepareEmails(ctx, jobs)
	queue := make(chan mailJob)
	rec := w.newRecorder(ctx)
	var wg sync.WaitGroup
	for range min(w.Conns, len(ready)) {
		wg.Go(func() {
			sess := m.Session()
			defer sess.Close()
			for mj := range queue {
				sendCtx, cancel := w.sendContext(ctx, mj.job)
				answer, err := sess.Send(sendCtx, mj.msg)
				cancel()
				if err != nil {
					w.record(ctx, mj.job, "", err)
					continue
				}
				rec.done(mj.job, answer)
			}
		})
	}
	for _, mj := range ready {
		if mj.err != nil {
			w.record(ctx, mj.job, "", mj.err)
			continue
		}
		queue <- mj
	}
	close(queue)
	wg.Wait()
	rec.close()
}

// recorder writes the done records of accepted messages in group commits.
type recorder struct {
	w    *Worker
	ctx  context.Context
	ch   chan store.Completion
	over chan struct{}
}

func (w *Worker) newRecorder(ctx context.Context) *recorder {
	r := &recorder{w: w, ctx: ctx, ch: make(chan store.Completion, 256), over: make(chan struct{})}
	go r.run()
	return r
}

func (r *recorder) done(j *store.Job, answer string) {
	r.ch <- store.Completion{Job: j, Result: answer}
}

// close waits until every accepted message is recorded.
func (r *recorder) close() {
	close(r.ch)
	<-r.over
}

func (r *recorder) run() {
	defer close(r.over)
	for first := range r.ch {
		batch := []store.Completion{first}
	more:
		for len(batch) < 500 {
			select {
			case c, ok := <-r.ch:
				if !ok {
					break more
				}
				batch = append(batch, c)
			default:
				break more
			}
		}
		r.commit(batch)
	}
}

func (r *recorder) commit(batch []store.Completion) {
	var lost []int64
	err := r.w.settle(r.ctx, func() error {
		var err error
		lost, err = r.w.DB.CompleteJobs(r.ctx, batch)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrLeaseLost) {
		for _, c := range batch {
			r.w.Log.Error("outbox: sent but not recorded as done; it may be sent again", "job", c.Job.ID, "err", err)
		}
		return
	}
	for _, id := range lost {
		r.w.Log.Error("outbox: sent but not recorded as done: the lease was lost; it may be sent again", "job", id)
	}
	for _, c := range batch {
		r.w.Log.Info("outbox: sent", "job", c.Job.ID, "kind", c.Job.Kind, "attempt", c.Job.Attempts, "answer", c.Result)
	}
}
