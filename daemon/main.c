// SPDX-License-Identifier: GPL-2.0
/*
 * portmasterd: the verdict authority of Portmaster for Linux.
 *
 * One thread, one epoll loop: the interception backend (NFQUEUE or the
 * kernel module), the control socket, signals and a timer.  Nothing in it
 * waits for a person: prompts are state in the flow table.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include "attrib/attrib.h"
#include "control/control.h"
#include "events/events.h"
#include "history/ctacct.h"
#include "history/history.h"
#include "ui/uiproc.h"
#include "daemon.h"
#include "decide/apps.h"
#include "common/log.h"
#include "common/util.h"
#include "dns/dns.h"

#ifndef PM_VERSION
#define PM_VERSION "unknown"
#endif

#define TICK_MS 100

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: portmasterd [--mode auto|kmod|nfqueue] [--config DIR] [--foreground]\n"
		"                   [--iptables auto|legacy|nft] [--socket PATH] [--verbose]\n"
		"                   [--history PATH|off] [--ui ADDR:PORT|off]\n"
		"       portmasterd --version | --help\n"
		"See portmasterd(8).\n");
}

static void on_history(struct pmd *d, int fd, uint32_t events, void *arg)
{
	(void)d;
	(void)fd;
	(void)events;
	history_poll(arg);
}

/*
 * The history, and conntrack's totals (which the history, monitor
 * streams, pmctl top and the web UI take).  Nothing here can stop the
 * daemon: what cannot start is reported and flows are decided as before.
 */
static void history_setup(struct pmd *d)
{
	struct history_opts o = {
		.path = d->cfg.history_path,
		.days = d->cfg.history_days,
		.max_bytes = d->cfg.history_max_bytes,
		.proc_root = "/proc",
	};
	char dir[PATH_MAX], err[256], *slash;

	d->ctacct = ctacct_start(d, "/proc", err, sizeof(err));
	if (!d->ctacct)
		pm_warn("conntrack accounting: %s; flows get no byte counts or end times", err);
	if (!d->cfg.history_path[0])
		return;
	snprintf(dir, sizeof(dir), "%s", d->cfg.history_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			pm_warn("history: cannot create %s: %s", dir, strerror(errno));
	}
	d->hist = history_start(&o);
	if (!d->hist) {
		pm_err("history: cannot start (out of memory or threads); not recorded");
		return;
	}
	events_listen(d->events, EV_MASK_ALL, history_event, d->hist);
	if (pmd_watch(d, history_fd(d->hist), EPOLLIN, on_history, d->hist) < 0)
		pm_warn("history: queries will not complete: %s", strerror(errno));
	pm_info("history in %s (%u days, at most %llu MiB)", d->cfg.history_path,
		d->cfg.history_days, (unsigned long long)(d->cfg.history_max_bytes >> 20));
}

static void history_teardown(struct pmd *d)
{
	ctacct_stop(d, d->ctacct);
	d->ctacct = NULL;
	if (d->hist) {
		pmd_unwatch(d, history_fd(d->hist));
		events_unlisten(d->events, history_event, d->hist);
		history_stop(d->hist);
		d->hist = NULL;
	}
}

static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		char c = 1;

		close(p[1]);
		/* The parent exits once the child is ready or has failed. */
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		_exit(c);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void tell_parent(int *fd, char status)
{
	if (*fd < 0)
		return;
	if (write(*fd, &status, 1) < 0)
		pm_warn("cannot report readiness: %s", strerror(errno));
	close(*fd);
	*fd = -1;
	if (status == 0) {
		int null = open("/dev/null", O_RDWR);

		log_to_syslog();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
	}
}

/* Opens a namespace to watch: NULL is our own. */
static int ns_add(struct pmd *d, const char *name, char *err, size_t errlen)
{
	char path[192];
	struct pm_ns *ns;
	struct stat st;
	int fd;

	if (!name)
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	else if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "netns %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (int i = 0; i < d->nns; i++) {
		if (d->ns[i]->id == (uint64_t)st.st_ino) {
			snprintf(err, errlen, "netns %s: watched already (it is %s)", path,
				 d->ns[i]->name[0] ? d->ns[i]->name : "our own");
			close(fd);
			return -1;
		}
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns || d->nns >= PM_MAX_NS) {
		snprintf(err, errlen, "netns %s: too many namespaces", path);
		free(ns);
		close(fd);
		return -1;
	}
	ns->id = (uint64_t)st.st_ino;
	ns->fd = fd;
	snprintf(ns->name, sizeof(ns->name), "%s", name ? name : "");
	d->ns[d->nns++] = ns;
	/* Its socket tables are read from inside it. */
	if (pmd_enter(d, ns) < 0) {
		snprintf(err, errlen, "netns %s: cannot enter it: %s", path, strerror(errno));
		return -1;
	}
	ns->diag_fd = sockdiag_open();
	if (ns->diag_fd < 0)
		pm_warn("netns %s: sock_diag unavailable (%s)%s", path, strerror(-ns->diag_fd),
			name ? "" : ": using /proc/net");
	pmd_enter(d, NULL);
	return 0;
}

static void ns_free_all(struct pmd *d)
{
	for (int i = 0; i < d->nns; i++) {
		if (d->ns[i]->diag_fd >= 0)
			close(d->ns[i]->diag_fd);
		if (d->ns[i]->fd >= 0)
			close(d->ns[i]->fd);
		free(d->ns[i]);
	}
	d->nns = 0;
}

/* Interception in every namespace, each set up from inside it. */
static int start_all(struct pmd *d, int *started, char *err, size_t errlen)
{
	char msg[1024];

	for (*started = 0; *started < d->nns; (*started)++) {
		struct pm_ns *ns = d->ns[*started];

		if (pmd_enter(d, ns) < 0 || d->be->start(d, ns, msg, sizeof(msg)) < 0) {
			pmd_enter(d, NULL);
			snprintf(err, errlen, "%s%s%s", ns->name[0] ? "netns " : "", ns->name,
				 ns->name[0] ? ": " : "");
			snprintf(err + strlen(err), errlen - strlen(err), "%s", msg);
			return -1;
		}
		pmd_enter(d, NULL);
	}
	return 0;
}

static void stop_all(struct pmd *d, int started)
{
	/* Held packets get the prompt fallback before the rules go. */
	engine_release_all(d);
	pmd_flush(d);
	while (started-- > 0) {
		pmd_enter(d, d->ns[started]);
		d->be->stop(d, d->ns[started]);
	}
	pmd_enter(d, NULL);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "iptables", required_argument, NULL, 'i' },
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "history", required_argument, NULL, 'H' },
		{ "ui", required_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct pmd d;
	char err[2048], path[PATH_MAX];
	const char *mode_arg = NULL, *ipt_arg = NULL, *sock_arg = NULL, *dir = "/etc/portmaster";
	const char *hist_arg = NULL, *ui_arg = NULL;
	bool foreground = false;
	int opt, sfd, tfd, ready_fd = -1, rc = 1, started = 0;
	sigset_t mask;
	struct itimerspec its = { .it_interval = { 0, TICK_MS * 1000000 },
				  .it_value = { 0, TICK_MS * 1000000 } };

	while ((opt = getopt_long(argc, argv, "m:c:fi:s:vVhH:u:", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': mode_arg = optarg; break;
		case 'c': dir = optarg; break;
		case 'f': foreground = true; break;
		case 'i': ipt_arg = optarg; break;
		case 's': sock_arg = optarg; break;
		case 'v': log_verbosity = LOG_DEBUG_; break;
		case 'H': hist_arg = optarg; break;
		case 'u': ui_arg = optarg; break;
		case 'V': printf("portmasterd %s\n", PM_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "portmasterd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	config_defaults(&d.cfg);
	if (xsnprintf(d.cfg.dir, sizeof(d.cfg.dir), "%s", dir) < 0 ||
	    xsnprintf(path, sizeof(path), "%s/portmasterd.conf", dir) < 0 ||
	    xsnprintf(d.rules_path, sizeof(d.rules_path), "%s/rules.conf", dir) < 0 ||
	    xsnprintf(d.rules_dir, sizeof(d.rules_dir), "%s/rules.d", dir) < 0) {
		fprintf(stderr, "portmasterd: --config path too long\n");
		return 2;
	}
	if (config_load(&d.cfg, path, err, sizeof(err)) < 0) {
		pm_err("%s", err);
		return 1;
	}
	/* Command line wins over the file. */
	{
		char line[PATH_MAX + 32];

		if (mode_arg) {
			snprintf(line, sizeof(line), "mode = %s\n", mode_arg);
			if (config_load_mem(&d.cfg, "--mode", line, err, sizeof(err)) < 0) {
				fprintf(stderr, "portmasterd: --mode must be auto, kmod or nfqueue\n");
				return 2;
			}
		}
		if (ipt_arg) {
			snprintf(line, sizeof(line), "iptables = %s\n", ipt_arg);
			if (config_load_mem(&d.cfg, "--iptables", line, err, sizeof(err)) < 0) {
				fprintf(stderr, "portmasterd: --iptables must be auto, legacy or nft\n");
				return 2;
			}
		}
		if (hist_arg) {
			snprintf(line, sizeof(line), "history = %s\n", hist_arg);
			if (config_load_mem(&d.cfg, "--history", line, err, sizeof(err)) < 0) {
				fprintf(stderr, "portmasterd: --history needs an absolute path or off\n");
				return 2;
			}
		}
		if (ui_arg) {
			snprintf(line, sizeof(line), "ui = %s\n", ui_arg);
			if (config_load_mem(&d.cfg, "--ui", line, err, sizeof(err)) < 0) {
				fprintf(stderr, "portmasterd: --ui needs a loopback ADDR:PORT or off\n");
				return 2;
			}
		}
		if (sock_arg) {
			snprintf(line, sizeof(line), "socket = %s\n", sock_arg);
			if (config_load_mem(&d.cfg, "--socket", line, err, sizeof(err)) < 0) {
				fprintf(stderr, "portmasterd: --socket needs an absolute path under 108 bytes\n");
				return 2;
			}
		}
	}
	config_finish(&d.cfg);
	d.next_rule_id = 1;
	crit_load_resolv_conf("/etc/resolv.conf");
	if (ruleset_load_dirs(&d.rules, d.rules_path, d.rules_dir, d.cfg.preset_list,
			      &d.next_rule_id, err, sizeof(err)) < 0) {
		/* With no good rules at all we refuse rather than guess. */
		pm_err("%s", err);
		pm_err("refusing to start without valid rules; fix the file or move it away");
		return 1;
	}
	d.def = d.rules.have_default ? d.rules.def : d.cfg.def;
	if (geteuid() != 0)
		pm_warn("not running as root: installing rules will most likely fail");
	if (!foreground && daemonize(&ready_fd) < 0) {
		pm_err("cannot go to the background: %s", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	d.started_ms = now_ms();
	d.apps = apps_new();	/* without it, pmctl apps is empty */
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.epfd < 0 || flowtab_init(&d.ft) < 0) {
		pm_err("setup: %s", strerror(errno));
		goto out;
	}
	d.attrib = attrib_new("/proc");
	d.events = events_new();
	if (ns_add(&d, NULL, err, sizeof(err)) < 0) {
		pm_err("%s", err);
		goto out;
	}
	for (int i = 0; i < d.cfg.nnetns; i++) {
		if (ns_add(&d, d.cfg.netns[i], err, sizeof(err)) < 0) {
			/* a firewall that silently leaves a namespace open is worse
			 * than one that does not start */
			pm_err("%s", err);
			goto out;
		}
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0 ||
	    epoll_ctl(d.epfd, EPOLL_CTL_ADD, sfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.fd = sfd }) < 0 ||
	    epoll_ctl(d.epfd, EPOLL_CTL_ADD, tfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.fd = tfd }) < 0) {
		pm_err("signalfd/timerfd: %s", strerror(errno));
		goto out;
	}
	if (control_open(&d, d.cfg.socket_path, err, sizeof(err)) < 0) {
		pm_err("%s", err);
		goto out;
	}
	history_setup(&d);
	ui_start(&d);
	switch (d.cfg.mode) {
	case MODE_KMOD:
		d.be = &kmod_backend;
		break;
	case MODE_NFQUEUE:
		d.be = &nfq_backend;
		break;
	default:
		d.be = kmod_available() ? &kmod_backend : &nfq_backend;
		break;
	}
	pm_info("portmasterd %s starting in %s mode (%s%s); default action %s, %zu rules from %s",
		PM_VERSION, d.be->name,
		d.be == &kmod_backend ? "kernel module" : "fallback: iptables + NFQUEUE",
		d.cfg.mode == MODE_AUTO ? ", chosen automatically" : "",
		action_name(d.def), d.rules.n, d.rules_path);
	/* The resolver listens before any stray DNS can be sent to it. */
	if (dns_start(&d, err, sizeof(err)) < 0) {
		pm_err("%s", err);
		d.be = NULL;
		goto out_ctl;
	}
	if (start_all(&d, &started, err, sizeof(err)) < 0) {
		pm_err("%s mode: %s", d.be->name, err);
		stop_all(&d, started);
		d.be = NULL;
		goto out_dns;
	}
	if (d.nns > 1)
		pm_info("watching %d network namespaces", d.nns);
	pm_info("control socket %s; try: pmctl status", d.cfg.socket_path);
	tell_parent(&ready_fd, 0);
	/* systemd (Type=notify): ready only now that interception is in place */
	sd_notifyf(0, "READY=1\nSTATUS=%s mode, %zu rules", d.be->name, d.rules.n);
	rc = 0;
	while (!d.quit) {
		struct epoll_event ev[32];
		int n = epoll_wait(d.epfd, ev, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pm_err("epoll_wait: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n && !d.quit; i++) {
			int fd = ev[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						sd_notify(0, "RELOADING=1");
						if (pmd_reload(&d, err, sizeof(err)) < 0)
							pm_err("reload: %s; keeping the current rules", err);
						sd_notify(0, "READY=1");
					} else {
						pm_info("signal %u: exiting", si.ssi_signo);
						d.quit = true;
					}
				}
			} else if (fd == tfd) {
				uint64_t exp;

				if (read(tfd, &exp, sizeof(exp)) > 0) {
					uint64_t now = now_ms();

					engine_tick(&d);
					ui_tick(&d, now);
					ctacct_tick(&d, d.ctacct, now);
					history_tick(d.hist);
					dns_tick(&d, now);
					control_tick(&d, now);
					for (int k = 0; d.be->tick && k < d.nns; k++)
						d.be->tick(&d, d.ns[k], now);
					pmd_flush(&d);
				}
			} else {
				uint64_t t0 = now_us();

				pmd_dispatch(&d, fd, ev[i].events);
				t0 = now_us() - t0;
				/* the loop's longest turn: what a verdict may wait */
				if (t0 > d.st.loop_max_us)
					d.st.loop_max_us = t0;
			}
		}
	}
	sd_notify(0, "STOPPING=1");
	stop_all(&d, started);
	d.be = NULL;
out_dns:
	dns_stop(&d);
out_ctl:
	ui_stop(&d);
	history_teardown(&d);
	control_close(&d);
out:
	tell_parent(&ready_fd, 1);
	attrib_free(d.attrib);
	apps_free(d.apps);
	ns_free_all(&d);
	events_free(d.events);
	flowtab_free(&d.ft);
	ruleset_clear(&d.rules);
	pmd_watch_free(&d);
	return rc;
}
