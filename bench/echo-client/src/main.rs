//! Load generator of the echo benchmark (`bench/suite.mjs --workload echo`).
//!
//! Opens N TCP connections to a loopback echo server; each keeps exactly one message
//! of S bytes in flight: send S bytes, read S bytes back, check them, repeat. After a
//! warmup it measures for a bounded time (and at most a bounded number of requests),
//! then prints one JSON line: requests/s, p50/p99 latency, errors and its own CPU time.
//! Before that it prints `{"phase":"measure"}` when the warmup ends, so the harness can
//! sample the server's CPU time over the measured window only.
//!
//! With `--http` it is an HTTP/1.1 keep-alive load generator instead (the benchmark's
//! `http` workload): each connection sends `GET / HTTP/1.1` and reads one whole
//! response (its head, then `Content-Length` bytes of body; a status other than 200 is
//! an error) before the next request.
//!
//! One epoll loop per thread (one thread by default): the client spends a few syscalls
//! per request, far less than a Node server, so it is not the bottleneck.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

const USAGE: &str = "Usage: echo-client --port <n> [options]

Drives a loopback TCP echo server and prints one JSON line of results.

  --port <n>           server port on the host (required)
  --host <ip>          loopback address of the server (default 127.0.0.1)
  --connections <n>    connections, each with one message in flight (default 64)
  --size <bytes>       message size (default 64)
  --warmup <s>         seconds before measuring (default 0.5)
  --duration <s>       seconds measured (default 2)
  --max-requests <n>   stop measuring after this many requests (default 10000000)
  --threads <n>        epoll threads sharing the connections (default 1)
  --http               HTTP/1.1 keep-alive: GET / and one whole response per request
                       (--size is ignored)
  --help               this text
";

/// What to run, from the command line.
#[derive(Debug, Clone, PartialEq)]
struct Options {
    server: SocketAddr,
    connections: usize,
    size: usize,
    warmup: Duration,
    duration: Duration,
    max_requests: u64,
    threads: usize,
    http: bool,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port = None;
    let mut connections = 64usize;
    let mut size = 64usize;
    let mut warmup = 0.5f64;
    let mut duration = 2.0f64;
    let mut max_requests = 10_000_000u64;
    let mut threads = 1usize;
    let mut http = false;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        if flag == "--http" {
            http = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("{flag}: {what}, got '{value}'");
        match flag.as_str() {
            "--host" => host = value.parse().map_err(|_| bad("not an IP address"))?,
            "--port" => port = Some(value.parse::<u16>().map_err(|_| bad("not a port"))?),
            "--connections" => connections = value.parse().map_err(|_| bad("not a count"))?,
            "--size" => size = value.parse().map_err(|_| bad("not a size"))?,
            "--warmup" => warmup = value.parse().map_err(|_| bad("not seconds"))?,
            "--duration" => duration = value.parse().map_err(|_| bad("not seconds"))?,
            "--max-requests" => max_requests = value.parse().map_err(|_| bad("not a count"))?,
            "--threads" => threads = value.parse().map_err(|_| bad("not a count"))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let port = port
        .filter(|&p| p != 0)
        .ok_or("--port <n> (1-65535) is required")?;
    // A benchmark tool that floods its target: keep it on this machine.
    if !host.is_loopback() {
        return Err(format!("--host must be a loopback address, got {host}"));
    }
    if connections == 0 || size == 0 || threads == 0 || max_requests == 0 {
        return Err(
            "--connections, --size, --threads and --max-requests must be at least 1".into(),
        );
    }
    let seconds = |s: f64, name: &str| {
        if s.is_finite() && (0.0..=3600.0).contains(&s) {
            Ok(Duration::from_secs_f64(s))
        } else {
            Err(format!("--{name} must be between 0 and 3600 seconds"))
        }
    };
    let duration = seconds(duration, "duration")?;
    if duration.is_zero() {
        return Err("--duration must be more than 0".into());
    }
    Ok(Some(Options {
        server: SocketAddr::new(host, port),
        connections,
        size,
        warmup: seconds(warmup, "warmup")?,
        duration,
        max_requests,
        threads: threads.min(connections),
        http,
    }))
}

/// Turns a libc return value into an `io::Result`.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// An epoll instance; each registered fd carries its connection's index as token.
struct Epoll(OwnedFd);

impl Epoll {
    fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 takes no pointers; on success it returns a new fd that
        // nothing else owns, so OwnedFd may take it.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` was just created and is owned by nobody else.
        Ok(Self(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn control(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: `event` is a valid epoll_event for the duration of the call; the
        // kernel copies it and keeps no pointer.
        check(unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &mut event) })?;
        Ok(())
    }

    /// Waits up to `timeout_ms` and returns how many entries of `events` were filled.
    fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> io::Result<usize> {
        let max = events.len().min(libc::c_int::MAX as usize) as libc::c_int;
        // SAFETY: `events` is a live, writable slice of at least `max` epoll_events,
        // and the kernel writes at most `max` of them.
        let n =
            unsafe { libc::epoll_wait(self.0.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms) };
        match check(n) {
            Ok(n) => Ok(n as usize),
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// CPU time of the whole process so far, all threads: (user, system).
fn process_cpu() -> (Duration, Duration) {
    // SAFETY: rusage is plain integers, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage; getrusage only writes into it.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return (Duration::ZERO, Duration::ZERO);
    }
    let of = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (of(usage.ru_utime), of(usage.ru_stime))
}

/// Message bytes vary per connection and per request, so a reply from another
/// connection or an older request cannot pass the check.
const PATTERN_SHIFTS: usize = 251;

/// The request of `--http` (keep-alive is HTTP/1.1's default).
const HTTP_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
/// The most bytes of a response head `--http` reads.
const HTTP_HEAD_MAX: usize = 16384;

/// Whether `bytes` hold one whole HTTP/1.1 200 response (Some(true)), need more
/// (Some(false)), or are not one (None: another status, a missing or bad
/// Content-Length, more bytes than the response, or a head past `HTTP_HEAD_MAX`).
fn http_response_complete(bytes: &[u8]) -> Option<bool> {
    let Some(head_end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return (bytes.len() <= HTTP_HEAD_MAX).then_some(false);
    };
    let head = std::str::from_utf8(&bytes[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    if !lines.next()?.starts_with("HTTP/1.1 200 ") {
        return None;
    }
    let length: usize = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))?
        .1
        .trim()
        .parse()
        .ok()?;
    let total = head_end + 4 + length;
    match bytes.len().cmp(&total) {
        std::cmp::Ordering::Less => Some(false),
        std::cmp::Ordering::Equal => Some(true),
        std::cmp::Ordering::Greater => None,
    }
}

/// One connection and its single message in flight.
struct Connection {
    stream: TcpStream,
    /// `size + PATTERN_SHIFTS` bytes; request k sends `pattern[k % 251..][..size]`.
    pattern: Vec<u8>,
    reply: Vec<u8>,
    size: usize,
    request: usize,
    sent: usize,
    received: usize,
    started: Instant,
    /// Whether EPOLLOUT is registered (only while a send could not complete).
    wants_write: bool,
    /// `--http`: the message is `HTTP_REQUEST`, the reply one whole response.
    http: bool,
}

impl Connection {
    fn new(stream: TcpStream, index: usize, size: usize, http: bool) -> Self {
        let size = if http { HTTP_REQUEST.len() } else { size };
        let mut state =
            0x9e37_79b9_7f4a_7c15u64 ^ (index as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let pattern = if http {
            HTTP_REQUEST.repeat(2)
        } else {
            (0..size + PATTERN_SHIFTS)
                .map(|_| {
                    // xorshift64: cheap bytes that differ between connections.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect()
        };
        Self {
            stream,
            pattern,
            reply: vec![0; if http { HTTP_HEAD_MAX } else { size }],
            size,
            request: 0,
            sent: 0,
            received: 0,
            started: Instant::now(),
            wants_write: false,
            http,
        }
    }

    /// Where request k's bytes start in `pattern` (the same request every time with `--http`).
    fn shift(&self) -> usize {
        if self.http {
            0
        } else {
            self.request % PATTERN_SHIFTS
        }
    }

    fn message(&self) -> &[u8] {
        let shift = self.shift();
        &self.pattern[shift..shift + self.size]
    }

    /// Starts the next request; true when all of it was sent at once.
    fn begin(&mut self, now: Instant) -> io::Result<bool> {
        self.request += 1;
        self.sent = 0;
        self.received = 0;
        self.started = now;
        self.send_more()
    }

    /// Sends what the socket takes; true when the whole message is out.
    fn send_more(&mut self) -> io::Result<bool> {
        while self.sent < self.size {
            let shift = self.shift();
            let rest = &self.pattern[shift + self.sent..shift + self.size];
            match self.stream.write(rest) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Reads what has arrived; true when the whole reply is in and matches.
    fn receive_more(&mut self) -> io::Result<bool> {
        if self.http {
            return self.receive_response();
        }
        while self.received < self.size {
            // Never past this message: the server must not send more than it got.
            match self.stream.read(&mut self.reply[self.received..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "server closed the connection",
                    ))
                }
                Ok(n) => self.received += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.reply != self.message() {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "reply differs from the message sent",
            ));
        }
        Ok(true)
    }
}

impl Connection {
    /// `--http`: reads what has arrived; true once one whole 200 response is in.
    fn receive_response(&mut self) -> io::Result<bool> {
        loop {
            if self.received == self.reply.len() {
                self.reply.resize(self.reply.len() * 2, 0);
            }
            match self.stream.read(&mut self.reply[self.received..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "server closed the connection",
                    ))
                }
                Ok(n) => self.received += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            match http_response_complete(&self.reply[..self.received]) {
                Some(true) => return Ok(true),
                Some(false) => {}
                None => {
                    return Err(io::Error::new(
                        ErrorKind::InvalidData,
                        "not one HTTP/1.1 200 response",
                    ))
                }
            }
        }
    }
}

/// What one epoll thread measured.
#[derive(Default)]
struct ThreadReport {
    warmup_requests: u64,
    requests: u64,
    /// Round-trip times of the measured requests, in ns (saturating at ~4.3 s).
    latencies_ns: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs `connections` until `end` (or `quota` measured requests, or none is left).
fn drive(
    mut connections: Vec<Connection>,
    warm_end: Instant,
    end: Instant,
    quota: u64,
) -> io::Result<ThreadReport> {
    let epoll = Epoll::new()?;
    let mut report = ThreadReport::default();
    let mut alive: Vec<bool> = vec![true; connections.len()];
    let mut open = connections.len();
    let fail = |report: &mut ThreadReport, alive: &mut bool, open: &mut usize, error: io::Error| {
        report.errors += 1;
        report.first_error.get_or_insert_with(|| error.to_string());
        *alive = false;
        *open -= 1;
    };
    let start = Instant::now();
    for (i, c) in connections.iter_mut().enumerate() {
        epoll.control(
            libc::EPOLL_CTL_ADD,
            c.stream.as_raw_fd(),
            libc::EPOLLIN as u32,
            i as u64,
        )?;
        match c.begin(start) {
            Ok(true) => {}
            Ok(false) => {
                c.wants_write = true;
                epoll.control(
                    libc::EPOLL_CTL_MOD,
                    c.stream.as_raw_fd(),
                    (libc::EPOLLIN | libc::EPOLLOUT) as u32,
                    i as u64,
                )?;
            }
            Err(e) => fail(&mut report, &mut alive[i], &mut open, e),
        }
    }
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    while open > 0 && report.requests < quota {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let timeout_ms = (end - now).as_millis().clamp(1, 1000) as i32;
        let n = epoll.wait(&mut events, timeout_ms)?;
        for event in &events[..n] {
            let (flags, i) = (event.events, event.u64 as usize);
            if !alive[i] {
                continue;
            }
            let c = &mut connections[i];
            let result = (|| -> io::Result<()> {
                if c.wants_write
                    && flags & (libc::EPOLLOUT as u32 | libc::EPOLLERR as u32) != 0
                    && c.send_more()?
                {
                    c.wants_write = false;
                    epoll.control(
                        libc::EPOLL_CTL_MOD,
                        c.stream.as_raw_fd(),
                        libc::EPOLLIN as u32,
                        i as u64,
                    )?;
                }
                if flags & (libc::EPOLLIN | libc::EPOLLERR | libc::EPOLLHUP) as u32 == 0
                    || !c.receive_more()?
                {
                    return Ok(());
                }
                let now = Instant::now();
                if now >= warm_end {
                    report.requests += 1;
                    let ns = (now - c.started).as_nanos().min(u32::MAX as u128) as u32;
                    report.latencies_ns.push(ns);
                } else {
                    report.warmup_requests += 1;
                }
                if report.requests < quota && now < end && !c.begin(now)? {
                    c.wants_write = true;
                    epoll.control(
                        libc::EPOLL_CTL_MOD,
                        c.stream.as_raw_fd(),
                        (libc::EPOLLIN | libc::EPOLLOUT) as u32,
                        i as u64,
                    )?;
                }
                Ok(())
            })();
            if let Err(e) = result {
                fail(&mut report, &mut alive[i], &mut open, e);
                // Closing it also takes it out of the epoll set.
                let _ = c.stream.shutdown(std::net::Shutdown::Both);
                let _ = epoll.control(libc::EPOLL_CTL_DEL, c.stream.as_raw_fd(), 0, 0);
            }
        }
    }
    Ok(report)
}

/// The whole run's result, printed as one JSON line.
#[derive(Debug, Default)]
struct Report {
    connections: usize,
    size: usize,
    threads: usize,
    seconds: f64,
    warmup_requests: u64,
    requests: u64,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
    errors: u64,
    first_error: Option<String>,
    cpu_user_us: f64,
    cpu_system_us: f64,
}

impl Report {
    fn to_json(&self) -> String {
        let per_second = if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        };
        let cpu_us = self.cpu_user_us + self.cpu_system_us;
        let cpu_per_request = if self.requests > 0 {
            cpu_us / self.requests as f64
        } else {
            0.0
        };
        let first_error = match &self.first_error {
            Some(e) => format!(
                ",\"firstError\":\"{}\"",
                e.replace('\\', "\\\\").replace('"', "\\\"")
            ),
            None => String::new(),
        };
        format!(
            "{{\"connections\":{},\"size\":{},\"threads\":{},\"seconds\":{:.6},\"requests\":{},\"warmupRequests\":{},\"requestsPerSec\":{:.1},\"p50Us\":{:.2},\"p99Us\":{:.2},\"maxUs\":{:.2},\"errors\":{}{},\"cpuUs\":{:.0},\"cpuUserUs\":{:.0},\"cpuSystemUs\":{:.0},\"cpuUsPerRequest\":{:.3}}}",
            self.connections,
            self.size,
            self.threads,
            self.seconds,
            self.requests,
            self.warmup_requests,
            per_second,
            self.p50_us,
            self.p99_us,
            self.max_us,
            self.errors,
            first_error,
            cpu_us,
            self.cpu_user_us,
            self.cpu_system_us,
            cpu_per_request,
        )
    }
}

/// Value at quantile `q` of sorted `values`, the suite's convention (floor(n * q)).
fn quantile_us(sorted_ns: &[u32], q: f64) -> f64 {
    if sorted_ns.is_empty() {
        return 0.0;
    }
    let at = ((sorted_ns.len() as f64 * q) as usize).min(sorted_ns.len() - 1);
    f64::from(sorted_ns[at]) / 1000.0
}

/// Connects, runs the warmup and the measurement, calls `on_measure` when the warmup
/// ends, and returns the report.
fn run(options: &Options, on_measure: impl FnOnce()) -> io::Result<Report> {
    let mut groups: Vec<Vec<Connection>> = (0..options.threads).map(|_| Vec::new()).collect();
    for i in 0..options.connections {
        let stream = TcpStream::connect_timeout(&options.server, Duration::from_secs(5))?;
        // One small message at a time: Nagle's algorithm would hold it back.
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        groups[i % options.threads].push(Connection::new(stream, i, options.size, options.http));
    }
    let start = Instant::now();
    let warm_end = start + options.warmup;
    let end = warm_end + options.duration;
    let quota = options.max_requests.div_ceil(options.threads as u64);
    let (reports, cpu) = std::thread::scope(|scope| {
        let workers: Vec<_> = groups
            .into_iter()
            .map(|group| scope.spawn(move || drive(group, warm_end, end, quota)))
            .collect();
        if let Some(wait) = warm_end.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let cpu_at_warm_end = process_cpu();
        on_measure();
        let reports: Vec<_> = workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(io::Error::other("an epoll thread panicked")))
            })
            .collect();
        let (user, system) = process_cpu();
        let cpu = (
            user.saturating_sub(cpu_at_warm_end.0),
            system.saturating_sub(cpu_at_warm_end.1),
        );
        (reports, cpu)
    });
    let measured = Instant::now().saturating_duration_since(warm_end);
    let mut report = Report {
        connections: options.connections,
        size: options.size,
        threads: options.threads,
        seconds: measured.as_secs_f64(),
        cpu_user_us: cpu.0.as_secs_f64() * 1e6,
        cpu_system_us: cpu.1.as_secs_f64() * 1e6,
        ..Report::default()
    };
    let mut latencies = Vec::new();
    for r in reports {
        let r = r?;
        report.requests += r.requests;
        report.warmup_requests += r.warmup_requests;
        report.errors += r.errors;
        if report.first_error.is_none() {
            report.first_error = r.first_error;
        }
        latencies.extend_from_slice(&r.latencies_ns);
    }
    latencies.sort_unstable();
    report.p50_us = quantile_us(&latencies, 0.5);
    report.p99_us = quantile_us(&latencies, 0.99);
    report.max_us = latencies.last().map_or(0.0, |&ns| f64::from(ns) / 1000.0);
    Ok(report)
}

fn main() {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("echo-client: {message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let report = run(&options, || {
        println!("{{\"phase\":\"measure\"}}");
        let _ = io::stdout().flush();
    });
    match report {
        Ok(report) => println!("{}", report.to_json()),
        Err(e) => {
            eprintln!("echo-client: {}: {e}", options.server);
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// A loopback server answering each connection with `answer(bytes read)`.
    fn server(answer: fn(&mut [u8])) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 {
                            return;
                        }
                        answer(&mut buf[..n]);
                        if stream.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        port
    }

    fn options(port: u16, connections: usize, size: usize) -> Options {
        Options {
            server: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            connections,
            size,
            warmup: Duration::from_millis(20),
            duration: Duration::from_millis(150),
            max_requests: 1_000_000,
            threads: 2,
            http: false,
        }
    }

    #[test]
    fn http_responses_are_read_whole() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(http_response_complete(ok), Some(true));
        assert_eq!(http_response_complete(&ok[..20]), Some(false));
        assert_eq!(http_response_complete(&ok[..ok.len() - 1]), Some(false));
        assert_eq!(
            http_response_complete(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
            None
        );
        assert_eq!(
            http_response_complete(b"HTTP/1.1 200 OK\r\n\r\n"),
            None,
            "no length"
        );
        let mut two = ok.to_vec();
        two.extend_from_slice(ok);
        assert_eq!(http_response_complete(&two), None, "more than one response");
    }

    #[test]
    fn http_server_is_measured_without_errors() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    // One request per read: the client sends one at a time.
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0
                            || stream
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
                                .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        let report = run(
            &Options {
                http: true,
                ..options(port, 4, 64)
            },
            || {},
        )
        .unwrap();
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        assert!(report.requests > 0);
    }

    #[test]
    fn options_default_and_refuse_non_loopback_hosts() {
        let o = parse_args(args(&["--port", "9000"])).unwrap().unwrap();
        assert_eq!((o.connections, o.size, o.threads), (64, 64, 1));
        assert_eq!(o.server.to_string(), "127.0.0.1:9000");
        assert!(parse_args(args(&["--port", "9000", "--host", "10.0.0.1"])).is_err());
        assert!(parse_args(args(&["--port", "9000", "--host", "::1"])).is_ok());
        assert!(parse_args(args(&["--size", "64"])).is_err());
        assert!(parse_args(args(&["--port", "9000", "--duration", "0"])).is_err());
        assert_eq!(parse_args(args(&["--help"])).unwrap(), None);
    }

    #[test]
    fn echo_server_is_measured_without_errors() {
        let port = server(|_| {});
        // 5000 B messages cross the test server's 4 KiB reads: replies come in pieces.
        let mut measured = false;
        let report = run(&options(port, 8, 5000), || measured = true).unwrap();
        assert!(measured);
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        assert!(report.requests > 0);
        assert!(
            report.p50_us > 0.0 && report.p50_us <= report.p99_us && report.p99_us <= report.max_us
        );
        let json = report.to_json();
        assert!(
            json.starts_with("{\"connections\":8,\"size\":5000,"),
            "{json}"
        );
    }

    #[test]
    fn corrupted_replies_count_as_errors() {
        let port = server(|bytes| bytes[0] ^= 1);
        let report = run(&options(port, 4, 64), || {}).unwrap();
        assert_eq!(report.errors, 4);
        assert_eq!(report.requests, 0);
        assert!(report.first_error.unwrap().contains("differs"));
    }

    #[test]
    fn quantiles_follow_the_suite() {
        let ns: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(quantile_us(&ns, 0.5), 51.0);
        assert_eq!(quantile_us(&ns, 0.99), 100.0);
        assert_eq!(quantile_us(&[], 0.5), 0.0);
    }
}
