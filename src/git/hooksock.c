/*
 * git/hooksock.c -- hook <-> daemon Unix socket.
 *
 * The listening thread accepts and hands each connection to a detached
 * worker thread; an in-flight counter lets gs_hooksock_close drain.
 * Workers must never block forever: reads and writes carry timeouts.
 * SPDX-License-Identifier: MIT
 */
#include "git/hooksock.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include "limits.h"
#include "log/log.h"
#include "util/alloc.h"

struct gs_hooksock {
	int fd;
	int wake[2];
	char *path;
	pthread_t thread;
	gs_hooksock_handler handler;
	void *payload;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int inflight;
};

typedef struct {
	gs_hooksock *s;
	int fd;
} hooksock_conn;

static int io_full(int fd, void *buf, size_t len, int writing, int timeout_ms, gs_error *err)
{
	size_t done = 0;
	while (done < len) {
		struct pollfd p = {fd, writing ? POLLOUT : POLLIN, 0};
		ssize_t n;
		int pr = poll(&p, 1, timeout_ms);
		if (pr == 0)
			return gs_error_set(err, GS_EUNAVAILABLE, "hook", "hook socket timed out");
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return gs_error_os(err, "hook socket");
		}
		n = writing ? send(fd, (char *)buf + done, len - done, MSG_NOSIGNAL) : read(fd, (char *)buf + done, len - done);
		if (n == 0)
			return gs_error_set(err, GS_EUNAVAILABLE, "hook", "hook socket closed by peer");
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return gs_error_set(err, GS_EUNAVAILABLE, "hook", "hook socket: %s", errno == EPIPE ? "broken pipe" : "i/o error");
		}
		done += (size_t)n;
	}
	return 0;
}

static int frame_write(int fd, json_t *msg, int timeout_ms, gs_error *err)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	unsigned char hdr[4];
	int error;
	if (!text)
		return gs_error_set(err, GS_ERROR, "hook", "cannot serialise hook message");
	if (len > GS_MAX_HOOK_MSG_BYTES) {
		free(text);
		return gs_error_set(err, GS_ELIMIT, "hook", "hook message of %zu bytes too large", len);
	}
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	if ((error = io_full(fd, hdr, 4, 1, timeout_ms, err)) == 0)
		error = io_full(fd, text, len, 1, timeout_ms, err);
	free(text);
	return error;
}

static int frame_read(int fd, json_t **out, int timeout_ms, gs_error *err)
{
	unsigned char hdr[4];
	uint32_t len;
	char *text;
	json_error_t jerr;
	int error;
	if ((error = io_full(fd, hdr, 4, 0, timeout_ms, err)) < 0)
		return error;
	len = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) | ((uint32_t)hdr[2] << 8) | hdr[3];
	if (len > GS_MAX_HOOK_MSG_BYTES)
		return gs_error_set(err, GS_ELIMIT, "hook", "hook message of %u bytes too large", len);
	text = gs_xmalloc(len + 1);
	if ((error = io_full(fd, text, len, 0, timeout_ms, err)) < 0) {
		free(text);
		return error;
	}
	text[len] = 0;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!*out || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return gs_error_set(err, GS_EINVALID, "hook", "malformed hook message: %s", jerr.text);
	}
	return 0;
}

static void *hooksock_worker(void *arg)
{
	hooksock_conn *c = arg;
	gs_hooksock *s = c->s;
	gs_error err = GS_ERROR_INIT;
	json_t *req = NULL, *reply = NULL;

	if (frame_read(c->fd, &req, GS_HOOK_TIMEOUT_S * 1000, &err) < 0) {
		GS_LOG(GS_LOG_WARN, "hooksock", "bad hook request: %s", err.msg);
		reply = json_pack("{s:i, s:s}", "exit", 1, "message", "gitstore: malformed hook request\n");
	} else {
		reply = s->handler(req, s->payload);
	}
	gs_error_clear(&err);
	if (reply && frame_write(c->fd, reply, GS_HOOK_TIMEOUT_S * 1000, &err) < 0)
		GS_LOG(GS_LOG_WARN, "hooksock", "hook reply not delivered: %s", err.msg);
	json_decref(req);
	json_decref(reply);
	close(c->fd);
	free(c);
	pthread_mutex_lock(&s->mu);
	s->inflight--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void *hooksock_accept(void *arg)
{
	gs_hooksock *s = arg;
	for (;;) {
		struct pollfd p[2] = {{s->fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
		hooksock_conn *c;
		pthread_t t;
		int fd;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		c = gs_xmalloc(sizeof(*c));
		c->s = s;
		c->fd = fd;
		pthread_mutex_lock(&s->mu);
		s->inflight++;
		pthread_mutex_unlock(&s->mu);
		if (pthread_create(&t, NULL, hooksock_worker, c) != 0) {
			close(fd);
			free(c);
			pthread_mutex_lock(&s->mu);
			s->inflight--;
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

int gs_hooksock_listen(gs_hooksock **out, const char *path, gs_hooksock_handler h, void *payload, gs_error *err)
{
	struct sockaddr_un addr;
	gs_hooksock *s;
	if (strlen(path) >= sizeof(addr.sun_path))
		return gs_error_set(err, GS_EINVALID, "hook", "socket path too long (%zu bytes): %s", strlen(path), path);
	s = gs_xcalloc(1, sizeof(*s));
	s->fd = -1;
	s->wake[0] = s->wake[1] = -1;
	s->path = gs_xstrdup(path);
	s->handler = h;
	s->payload = payload;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	unlink(path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* owner only: a hook message can append events for a live push */
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0600) < 0 ||
	    listen(s->fd, 128) < 0 ||
	    pipe2(s->wake, O_CLOEXEC) < 0) {
		gs_error_os(err, path);
		gs_hooksock_close(s);
		return err->code;
	}
	if (pthread_create(&s->thread, NULL, hooksock_accept, s) != 0) {
		gs_error_set(err, GS_ERROR, "os", "cannot start hook socket thread");
		close(s->wake[1]);
		s->wake[1] = -1;
		gs_hooksock_close(s);
		return GS_ERROR;
	}
	*out = s;
	return 0;
}

void gs_hooksock_close(gs_hooksock *s)
{
	if (!s)
		return;
	if (s->wake[1] >= 0) {
		if (write(s->wake[1], "x", 1) == 1)
			pthread_join(s->thread, NULL);
	}
	pthread_mutex_lock(&s->mu);
	while (s->inflight > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->path);
	}
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->path);
	free(s);
}

int gs_hooksock_call(const char *path, json_t *req, json_t **reply, int timeout_s, gs_error *err)
{
	struct sockaddr_un addr;
	int fd, error;
	if (strlen(path) >= sizeof(addr.sun_path))
		return gs_error_set(err, GS_EINVALID, "hook", "socket path too long: %s", path);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gs_error_os(err, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return gs_error_set(err, GS_EUNAVAILABLE, "hook", "gitstore daemon unreachable at %s", path);
	}
	if ((error = frame_write(fd, req, timeout_s * 1000, err)) == 0)
		error = frame_read(fd, reply, timeout_s * 1000, err);
	close(fd);
	return error;
}
