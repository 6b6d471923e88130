/* The floor of the nop workload: liburing from C, `depth` IORING_OP_NOP in flight,
 * refilled as they complete (one io_uring_submit_and_wait per refill), for `seconds`.
 * Prints one JSON line: ops, seconds, opsPerSec, cpuUsPerOp (every thread of the
 * process, getrusage(RUSAGE_SELF)). Built by bench/suite.mjs with liburing-dev. */
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  unsigned depth = argc > 2 ? (unsigned)atoi(argv[2]) : 32;
  struct io_uring ring;
  int ret = io_uring_queue_init(depth * 2, &ring, 0);
  if (ret < 0) {
    fprintf(stderr, "io_uring_queue_init: %d\n", ret);
    return 1;
  }
  unsigned long long ops = 0;
  unsigned inflight = 0;
  double cpu0 = cpu_us(), t0 = now(), deadline = t0 + seconds;
  for (;;) {
    while (inflight < depth) {
      struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
      if (!sqe) break;
      io_uring_prep_nop(sqe);
      inflight++;
    }
    ret = io_uring_submit_and_wait(&ring, 1);
    if (ret < 0) {
      fprintf(stderr, "io_uring_submit_and_wait: %d\n", ret);
      return 1;
    }
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) seen++;
    io_uring_cq_advance(&ring, seen);
    inflight -= seen;
    ops += seen;
    if ((ops & 1023) < seen && now() >= deadline) break;
  }
  double elapsed = now() - t0, cpu = cpu_us() - cpu0;
  printf("{\"ops\":%llu,\"seconds\":%f,\"opsPerSec\":%f,\"cpuUsPerOp\":%f}\n", ops, elapsed, ops / elapsed, cpu / ops);
  io_uring_queue_exit(&ring);
  return 0;
}
