// Owns the PortAudio thread (see pa_thread.h). Plain pthreads rather than <thread>/<mutex> keep
// the prebuilt binary's libstdc++ and glibc requirements low (see compat.h).
#include "pa_thread.h"

#include <pthread.h>

#include "compat.h"

namespace audex {

namespace {

struct Job {
  std::function<void()> run;
  Job *next = nullptr;
};

// Allocated once and never freed: the thread is detached and may still be waiting on these at
// process exit, when static destructors would run.
struct Queue {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
  Job *head = nullptr;
  Job *tail = nullptr;
};

Queue *gQueue = nullptr;
pthread_once_t gOnce = PTHREAD_ONCE_INIT;

void *loop(void *arg) {
  Queue *q = static_cast<Queue *>(arg);
  for (;;) {
    pthread_mutex_lock(&q->mutex);
    while (q->head == nullptr) pthread_cond_wait(&q->wake, &q->mutex);
    Job *job = q->head;
    q->head = job->next;
    if (q->head == nullptr) q->tail = nullptr;
    pthread_mutex_unlock(&q->mutex);
    job->run();
    delete job;
  }
  return nullptr;
}

void start() {
  gQueue = new Queue();
  pthread_t thread;
  pthread_create(&thread, nullptr, loop, gQueue);
  pthread_detach(thread);
}

struct PromiseOp {
  napi_deferred deferred;
  napi_threadsafe_function tsfn;
  std::function<void()> work;
  std::function<napi_value(napi_env, std::string &)> done;
  std::function<void()> abandoned;
};

void settle(napi_env env, napi_value, void *context, void *) {
  PromiseOp *op = static_cast<PromiseOp *>(context);
  if (env == nullptr) {
    // The environment is being torn down: release what the work acquired, off this thread.
    if (op->abandoned) runOnPaThread(op->abandoned);
    delete op;
    return;
  }
  std::string error;
  napi_value value = op->done(env, error);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_reject_deferred(env, op->deferred, exception);
  } else if (!error.empty() || value == nullptr) {
    napi_value message, err;
    if (error.empty()) error = "[audex/naudiodon] internal error";
    napi_create_string_utf8(env, error.c_str(), error.size(), &message);
    napi_create_error(env, nullptr, message, &err);
    napi_reject_deferred(env, op->deferred, err);
  } else {
    napi_resolve_deferred(env, op->deferred, value);
  }
  delete op;
}

}  // namespace

void runOnPaThread(std::function<void()> job) {
  pthread_once(&gOnce, start);
  Job *j = new Job{std::move(job)};
  pthread_mutex_lock(&gQueue->mutex);
  if (gQueue->tail) gQueue->tail->next = j;
  else gQueue->head = j;
  gQueue->tail = j;
  pthread_cond_signal(&gQueue->wake);
  pthread_mutex_unlock(&gQueue->mutex);
}

napi_value paPromise(napi_env env, const char *name, std::function<void()> work,
                     std::function<napi_value(napi_env, std::string &)> done, std::function<void()> abandoned) {
  napi_value promise, resource;
  PromiseOp *op = new PromiseOp{nullptr, nullptr, std::move(work), std::move(done), std::move(abandoned)};
  if (napi_create_promise(env, &op->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_threadsafe_function(env, nullptr, nullptr, resource, 0, 1, nullptr, nullptr, op, settle,
                                      &op->tsfn) != napi_ok) {
    delete op;
    napi_throw_error(env, nullptr, "[audex/naudiodon] cannot queue a PortAudio call");
    return nullptr;
  }
  runOnPaThread([op] {
    op->work();
    napi_threadsafe_function tsfn = op->tsfn;
    if (napi_call_threadsafe_function(tsfn, nullptr, napi_tsfn_blocking) != napi_ok) {
      // The environment is closing and settle() will not run: release here.
      if (op->abandoned) op->abandoned();
      delete op;
    }
    napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  });
  return promise;
}

// A one-shot flag one thread sets and another waits for, with a timeout (CLOCK_MONOTONIC).
Signal::Signal() {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&cond_, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&mutex_, nullptr);
}

Signal::~Signal() {
  pthread_cond_destroy(&cond_);
  pthread_mutex_destroy(&mutex_);
}

bool Signal::set() {
  pthread_mutex_lock(&mutex_);
  done_ = true;
  const bool late = gaveUp_;
  pthread_cond_broadcast(&cond_);
  pthread_mutex_unlock(&mutex_);
  return !late;
}

bool Signal::wait(int ms) {
  timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec += 1;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&mutex_);
  while (!done_) {
    if (pthread_cond_timedwait(&cond_, &mutex_, &until) != 0 && !done_) {
      gaveUp_ = true;
      break;
    }
  }
  const bool done = done_;
  pthread_mutex_unlock(&mutex_);
  return done;
}

}  // namespace audex
