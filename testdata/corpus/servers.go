package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// servers are the corpus's servers: each recorded while a client sends
// one request mix, held out on the same mix with its files at other
// paths and on another port, and on a second mix; the HTTP servers'
// reaching run asks for a symlink in the document root that points at
// the secret.
func servers(t tools) []job {
	return []job{
		web("nginx", "/usr/sbin/nginx", "nginx", "", nginxConf(1), nginxArgs),
		web("lighttpd", "/usr/sbin/lighttpd", "lighttpd", "", lighttpdConf, func(site string) func(*place) []string {
			return argv("-D", "-f", "@"+site+".d/lighttpd.conf")
		}),
		web("python3-http", "/usr/bin/python3.11", "python3", "", noConf, func(site string) func(*place) []string {
			return argv("-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", "@"+site)
		}),
		web("go-httpd", t.built("httpd"), "", "github.com/sysrec/sysrec/testdata/corpus/httpd", func(site string) setup { return mkdir(site + ".d/uploads") }, func(site string) func(*place) []string {
			return argv("-addr", "127.0.0.1:{port}", "-root", "@"+site, "-uploads", "@"+site+".d/uploads", "-log", "@"+site+".d/access.log")
		}),
		web("node-http", "/usr/bin/node", "nodejs", "", func(site string) setup { return text(site+".d/server.js", nodeServer) }, func(site string) func(*place) []string {
			return argv("@"+site+".d/server.js", "{port}", "@"+site)
		}),
		{name: "redis", bin: "/usr/bin/redis-server", pkg: "redis-server", server: true, inputs: []input{
			{desc: "mix A: strings and counters", setup: redisConf("conf/redis.conf", "data"), args: argv("@conf/redis.conf", "--port", "{port}"), mix: redisMixA},
			{desc: "mix A on another port, configuration and data elsewhere", setup: redisConf("etc/redis/site.conf", "var/lib/redis"), args: argv("@etc/redis/site.conf", "--port", "{port}"), mix: redisMixA},
			{desc: "mix B: lists, hashes, sets, expiry, 100 KB values, SAVE", setup: redisConf("cfg/r.conf", "db"), args: argv("@cfg/r.conf", "--port", "{port}"), mix: redisMixB},
		}},
		{name: "memcached", bin: "/usr/bin/memcached", pkg: "memcached", server: true, inputs: []input{
			{desc: "mix A: set and get", args: argv("-p", "{port}", "-l", "127.0.0.1", "-U", "0", "-u", "root", "-m", "64"), mix: memcachedMixA},
			{desc: "mix A on another port", args: argv("-p", "{port}", "-l", "127.0.0.1", "-U", "0", "-u", "root", "-m", "64"), mix: memcachedMixA},
			{desc: "mix B: add, replace, append, counters, cas, touch, a 500 KB value, flush", args: argv("-p", "{port}", "-l", "127.0.0.1", "-U", "0", "-u", "root", "-m", "64"), mix: memcachedMixB},
		}},
	}
}

// web is an HTTP server's job: recorded on mix A, held out on mix A
// with its site and configuration elsewhere and on mix B; conf lays out
// its configuration for a site directory, args its command line.
func web(name, bin, pkg, build string, conf func(site string) setup, args func(site string) func(*place) []string) job {
	return job{name: name, bin: bin, pkg: pkg, build: build, server: true, inputs: []input{
		{desc: "mix A: pages, a stylesheet, JSON", setup: steps(site("site"), conf("site")), args: args("site"), mix: httpMixA},
		{desc: "mix A on another port, the site and configuration elsewhere", setup: steps(site("srv/www/public"), conf("srv/www/public")), args: args("srv/www/public"), mix: httpMixA},
		{desc: "mix B: HEAD, 404, a 2 MB file, ranges, 8 connections at once, POST, directories", setup: steps(site("www"), conf("www")), args: args("www"), mix: httpMixB},
	}, reach: []input{
		{desc: "a symlink in the site to the secret", setup: steps(site("www"), secretLink("www/leak.txt"), conf("www")), args: args("www"), mix: httpLeak},
	}}
}

// site writes a small web site under dir.
func site(dir string) setup {
	return steps(
		text(dir+"/index.html", "<!doctype html><title>corpus</title><link rel=stylesheet href=style.css><p>hello from the corpus\n"),
		text(dir+"/style.css", "body { font-family: sans-serif; }\n"),
		file(dir+"/data/small.json", jsonRecords(200, 20)),
		file(dir+"/big.bin", random(201, 2<<20)),
		text(dir+"/sub/index.html", "<p>a subdirectory\n"),
		text(dir+"/files/readme.txt", "a directory without an index\n"),
	)
}

func noConf(string) setup { return func(*place) error { return nil } }

// nginxConf is nginx's configuration with that many worker processes.
// It keeps what nginx writes (pid, log, temporary files) out of the
// directory of its configuration, as a deployment does (/etc/nginx,
// /run, /var/log/nginx): a server that may write beside its
// configuration could choose its next run's port and root, and sysrec
// takes neither from such a file.
func nginxConf(workers int) func(site string) setup {
	return func(site string) setup {
		return steps(mkdir(site+".d/run/tmp"), text(site+".d/nginx.conf", `daemon off;
master_process on;
worker_processes `+strconv.Itoa(workers)+`;
error_log stderr notice;
pid {root}/`+site+`.d/run/nginx.pid;
events { worker_connections 64; }
http {
    access_log {root}/`+site+`.d/run/access.log;
    client_body_temp_path {root}/`+site+`.d/run/tmp/body;
    proxy_temp_path {root}/`+site+`.d/run/tmp/proxy;
    fastcgi_temp_path {root}/`+site+`.d/run/tmp/fastcgi;
    uwsgi_temp_path {root}/`+site+`.d/run/tmp/uwsgi;
    scgi_temp_path {root}/`+site+`.d/run/tmp/scgi;
    types { text/html html; text/css css; application/json json; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:{port};
        root {root}/`+site+`;
        location / { }
    }
}
`))
	}
}

func nginxArgs(site string) func(*place) []string {
	return argv("-e", "stderr", "-p", "@"+site+".d/", "-c", "@"+site+".d/nginx.conf")
}

// lighttpdConf names the port in the configuration, as a deployment
// does.
func lighttpdConf(site string) setup {
	return steps(mkdir(site+".d/logs"), text(site+".d/lighttpd.conf", `server.document-root = "{root}/`+site+`"
server.port = {port}
server.bind = "127.0.0.1"
server.errorlog = "{root}/`+site+`.d/logs/error.log"
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".css" => "text/css", ".json" => "application/json" )
`))
}

func redisConf(name, dir string) setup {
	return steps(mkdir(dir), text(name, `bind 127.0.0.1
protected-mode yes
daemonize no
logfile ""
dir {root}/`+dir+`
dbfilename dump.rdb
save ""
appendonly no
`))
}

// nodeServer serves files from a directory, as a small node service
// would.
const nodeServer = `const http = require('http'), fs = require('fs'), path = require('path');
const [port, root] = process.argv.slice(2);
const types = {'.html': 'text/html', '.css': 'text/css', '.json': 'application/json'};
const server = http.createServer((req, res) => {
  let p = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405); res.end(); return; }
  fs.stat(p, (err, st) => {
    if (!err && st.isDirectory()) p = path.join(p, 'index.html');
    const s = fs.createReadStream(p);
    s.on('error', () => { res.writeHead(404); res.end('not found\n'); });
    s.on('open', () => {
      res.writeHead(200, {'Content-Type': types[path.extname(p)] || 'application/octet-stream'});
      if (req.method === 'HEAD') { s.destroy(); res.end(); } else s.pipe(res);
    });
  });
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`

// httpReq is one request of a mix.
type httpReq struct {
	method, path, body, rangeHdr string
}

// httpDo sends reqs in order on one client (keep-alive unless off) and
// writes one line per answer: method, path, status, body digest.
func httpDo(p *place, keepAlive bool, reqs ...httpReq) string {
	tr := &http.Transport{DisableKeepAlives: !keepAlive, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "%s %s %s\n", r.method, r.path, httpOne(c, p, r))
	}
	return b.String()
}

func httpOne(c *http.Client, p *place, r httpReq) string {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, fmt.Sprintf("http://127.0.0.1:%d%s", p.port, r.path), body)
	if err != nil {
		return "error: " + err.Error()
	}
	if r.rangeHdr != "" {
		req.Header.Set("Range", r.rangeHdr)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "error: " + strings.ReplaceAll(err.Error(), strconv.Itoa(p.port), "PORT")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Sprintf("%d body error", resp.StatusCode)
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%d %d %s", resp.StatusCode, len(data), hex.EncodeToString(sum[:6]))
}

func httpMixA(p *place) string {
	return httpDo(p, true,
		httpReq{method: "GET", path: "/"},
		httpReq{method: "GET", path: "/index.html"},
		httpReq{method: "GET", path: "/style.css"},
		httpReq{method: "GET", path: "/data/small.json"},
	)
}

func httpMixB(p *place) string {
	out := httpDo(p, true,
		httpReq{method: "HEAD", path: "/index.html"},
		httpReq{method: "GET", path: "/missing.html"},
		httpReq{method: "GET", path: "/big.bin"},
		httpReq{method: "GET", path: "/big.bin", rangeHdr: "bytes=100-199"},
		httpReq{method: "POST", path: "/index.html", body: "a=1"},
		httpReq{method: "GET", path: "/sub/"},
		httpReq{method: "GET", path: "/sub"},
		httpReq{method: "GET", path: "/files/"},
		httpReq{method: "GET", path: "/upload?name=note.txt"},
		httpReq{method: "POST", path: "/upload?name=note.txt", body: "uploaded by the corpus\n"},
	)
	// Eight connections at once, without keep-alive.
	answers := make([]string, 8)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = httpDo(p, false, httpReq{method: "GET", path: "/style.css"})
		}()
	}
	wg.Wait()
	return out + strings.Join(answers, "")
}

// httpLeak asks for the symlink to the secret and returns the body
// itself (the leak oracle looks for the secret's marker in it).
func httpLeak(p *place) string {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/leak.txt", p.port))
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return fmt.Sprintf("%d\n%s", resp.StatusCode, data)
}

// resp is a line-protocol client (redis, memcached): one connection,
// every answer written down, and the first error ends the conversation.
type lineClient struct {
	c   net.Conn
	r   *bufio.Reader
	out strings.Builder
	err error
}

func dialLine(p *place) *lineClient {
	lc := &lineClient{}
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.port), 10*time.Second)
	if err != nil {
		lc.err = err
		return lc
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	lc.c, lc.r = c, bufio.NewReaderSize(c, 1<<20)
	return lc
}

func (lc *lineClient) result() string {
	if lc.c != nil {
		lc.c.Close()
	}
	if lc.err != nil {
		fmt.Fprintf(&lc.out, "error: %v\n", lc.err)
	}
	return lc.out.String()
}

// redis sends one command and writes its reply.
func (lc *lineClient) redis(args ...string) {
	if lc.err != nil {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, lc.err = lc.c.Write(b.Bytes()); lc.err != nil {
		return
	}
	reply, err := readRESP(lc.r)
	if err != nil {
		lc.err = err
		return
	}
	fmt.Fprintf(&lc.out, "%s → %s\n", args[0], reply)
}

// readRESP reads one reply; long strings are written as their length
// and digest.
func readRESP(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+', '-', ':':
		return line, nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return line, err
		}
		data := make([]byte, n+2)
		if _, err := io.ReadFull(r, data); err != nil {
			return "", err
		}
		if n > 64 {
			sum := sha256.Sum256(data[:n])
			return fmt.Sprintf("$%d %s", n, hex.EncodeToString(sum[:6])), nil
		}
		return string(data[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return line, err
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = readRESP(r); err != nil {
				return "", err
			}
		}
		return "[" + strings.Join(parts, " ") + "]", nil
	}
	return "", fmt.Errorf("reply %q", line)
}

func redisMixA(p *place) string {
	lc := dialLine(p)
	lc.redis("PING")
	for i := range 50 {
		lc.redis("SET", fmt.Sprintf("key:%d", i), fmt.Sprintf("value %d", i))
	}
	for i := range 50 {
		lc.redis("GET", fmt.Sprintf("key:%d", i))
	}
	for range 20 {
		lc.redis("INCR", "counter")
	}
	lc.redis("DEL", "key:0", "key:1", "key:2")
	lc.redis("DBSIZE")
	return lc.result()
}

func redisMixB(p *place) string {
	lc := dialLine(p)
	for i := range 20 {
		lc.redis("LPUSH", "list", fmt.Sprint(i))
	}
	lc.redis("LRANGE", "list", "0", "-1")
	lc.redis("HSET", "h", "f1", "v1", "f2", "v2", "f3", "v3")
	lc.redis("HGETALL", "h")
	lc.redis("SADD", "s", "a", "b", "c", "a")
	lc.redis("SCARD", "s")
	lc.redis("SET", "temp", "x", "EX", "100")
	lc.redis("EXPIRE", "list", "1000")
	big := strings.Repeat("0123456789", 10_000)
	for i := range 5 {
		lc.redis("SET", fmt.Sprintf("big:%d", i), big)
	}
	lc.redis("GET", "big:3")
	lc.redis("APPEND", "big:0", "tail")
	lc.redis("STRLEN", "big:0")
	lc.redis("MSET", "m1", "1", "m2", "2")
	lc.redis("MGET", "m1", "m2", "nothing")
	lc.redis("SAVE")
	lc.redis("DBSIZE")
	lc.redis("FLUSHALL")
	lc.redis("DBSIZE")
	return lc.result()
}

// mc sends one memcached command (data, if any, as its block) and
// writes the answer up to its last line.
func (lc *lineClient) mc(cmd string, data string, retrieval bool) {
	if lc.err != nil {
		return
	}
	msg := cmd + "\r\n"
	if data != "" {
		msg += data + "\r\n"
	}
	if _, lc.err = lc.c.Write([]byte(msg)); lc.err != nil {
		return
	}
	for {
		line, err := lc.r.ReadString('\n')
		if err != nil {
			lc.err = err
			return
		}
		line = strings.TrimSuffix(line, "\r\n")
		fields := strings.Fields(line)
		if retrieval && len(fields) >= 4 && fields[0] == "VALUE" {
			n, _ := strconv.Atoi(fields[3])
			block := make([]byte, n+2)
			if _, lc.err = io.ReadFull(lc.r, block); lc.err != nil {
				return
			}
			sum := sha256.Sum256(block[:n])
			// The cas unique (fields[4]) depends on the server's history.
			fmt.Fprintf(&lc.out, "%s: VALUE %s %s %d %s\n", strings.Fields(cmd)[0], fields[1], fields[2], n, hex.EncodeToString(sum[:6]))
			continue
		}
		fmt.Fprintf(&lc.out, "%s: %s\n", strings.Fields(cmd)[0], line)
		if !retrieval || line == "END" || strings.Contains(line, "ERROR") {
			return
		}
	}
}

func memcachedMixA(p *place) string {
	lc := dialLine(p)
	for i := range 50 {
		v := fmt.Sprintf("value %d", i)
		lc.mc(fmt.Sprintf("set key%d 0 0 %d", i, len(v)), v, false)
	}
	for i := range 50 {
		lc.mc(fmt.Sprintf("get key%d", i), "", true)
	}
	return lc.result()
}

func memcachedMixB(p *place) string {
	lc := dialLine(p)
	lc.mc("add a 5 0 1", "x", false)
	lc.mc("add a 5 0 1", "y", false)
	lc.mc("replace a 5 0 2", "yy", false)
	lc.mc("append a 0 0 3", "end", false)
	lc.mc("prepend a 0 0 5", "start", false)
	lc.mc("get a", "", true)
	lc.mc("set n 0 0 2", "10", false)
	lc.mc("incr n 5", "", false)
	lc.mc("decr n 3", "", false)
	lc.mc("gets n", "", true)
	lc.mc("touch n 100", "", false)
	lc.mc("delete a", "", false)
	lc.mc("delete a", "", false)
	big := strings.Repeat("abcdefghij", 50_000)
	lc.mc(fmt.Sprintf("set big 0 0 %d", len(big)), big, false)
	lc.mc("get big n missing", "", true)
	lc.mc("flush_all", "", false)
	lc.mc("get big", "", true)
	return lc.result()
}
