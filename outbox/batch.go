package outbox

import (
	"context"
	"errors"
	"sync"
	"time"

	"kyoyu/store"
)

// idleClose is how long an SMTP connection may wait for the next message
// before it is closed (servers close idle clients after a few minutes).
const idleClose = 5 * time.Second

// pipe carries claimed e-mail to Conns SMTP connections, each sending
// message after message, and records every accepted message done by a
// group commit as soon as it is accepted: the answers that arrive while
// one commit is being written go in the next. Refusals, drops and
// failures are recorded one by one.
type pipe struct {
	ctx     context.Context
	mail    chan mailJob // nil: no SessionMailer
	senders sync.WaitGroup
	rec     *recorder
}

func (w *Worker) startPipe(ctx context.Context) *pipe {
	p := &pipe{ctx: ctx}
	m, ok := w.Mail.(SessionMailer)
	if !ok {
		return p
	}
	// Room for one batch: the next is claimed while this one is sent.
	p.mail = make(chan mailJob, w.Batch)
	p.rec = w.newRecorder(ctx)
	for range w.Conns {
		p.senders.Go(func() { w.sender(ctx, m, p.mail, p.rec) })
	}
	return p
}

// stop waits until everything handed to the pipe is sent and recorded.
func (p *pipe) stop() {
	if p.mail != nil {
		close(p.mail)
		p.senders.Wait()
		p.rec.close()
	}
}

// sender is one SMTP connection's loop.
func (w *Worker) sender(ctx context.Context, m SessionMailer, q <-chan mailJob, rec *recorder) {
	var sess MailSession
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	idle := time.NewTimer(idleClose)
	defer idle.Stop()
	for {
		select {
		case mj, ok := <-q:
			if !ok {
				return
			}
			if sess == nil {
				sess = m.Session()
			}
			sendCtx, cancel := w.sendContext(ctx, mj.job)
			answer, err := sess.Send(sendCtx, mj.msg)
			cancel()
			if err != nil {
				w.record(ctx, mj.job, "", err)
			} else {
				rec.done(mj.job, answer)
			}
			idle.Reset(idleClose)
		case <-idle.C:
			if sess != nil {
				sess.Close()
				sess = nil
			}
		}
	}
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
