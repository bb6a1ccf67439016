# Median of each configuration's measurements, as a ratio to no firewall.
# Input lines: CONFIG METRIC VALUE ('#' lines are comments).
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0
}
# "-" when either was not measured
function ratio(a, b, m,   d) {
	if (!((a, m) in v) || !((b, m) in v))
		return "-"
	d = median(v[b, m])
	return d ? sprintf("%.2f", median(v[a, m]) / d) : "-"
}
!/^#/ && NF == 3 { v[$1, $2] = v[$1, $2] " " $3; seen[$2] = 1; cfgs[$1] = 1 }
END {
	ncfg = split("ct module remember pmd pmdhist pmd0 nfqueue", cfg, " ")
	printf "%-20s %14s", "metric", "none (per s)"
	for (i = 1; i <= ncfg; i++) printf " %8s", cfg[i]
	printf "\n"
	for (m in seen) {
		n = 0	# (reading v["none", m] would create it)
		if (("none", m) in v) {
			n = median(v["none", m])
			printf "%-20s %14.0f", m, n
		} else
			printf "%-20s %14s", m, "-"
		for (i = 1; i <= ncfg; i++)
			if (n && (cfg[i], m) in v)
				printf " %8.2f", median(v[cfg[i], m]) / n
			else
				printf " %8s", "-"	# not measured (PM_BENCH_CONFIGS)
		printf "\n"
	}
	print "ratios to no firewall.  ct: conntrack alone.  module: portmaster.ko and a"
	print "listener answering 1710.  remember: the same, verdicts remembered for a"
	print "minute.  pmd: portmaster.ko and portmasterd with rules and"
	print "attribution (default configuration).  pmdhist: the same with the history"
	print "on.  pmd0: pmd with remember = 0 (every flow asked).  nfqueue: the seed's"
	print "chains and a trivial C verdict program."
	print ""
	print "the issues' targets (same run; pmd0, pmd: issue 10):"
	for (m in seen) {
		if (m == "tcp_bulk_bits_per_s")
			continue
		printf "  %-18s pmd0/nfqueue %5s (want >= 1.20)   pmd/ct %5s (want >= 0.95)\n", m,
			ratio("pmd0", "nfqueue", m), ratio("pmd", "ct", m)
		printf "  %-18s remember/ct  %5s (want >= 0.97)   pmdhist/pmd %5s (want >= 0.97; issues 9, 13)\n", "",
			ratio("remember", "ct", m), ratio("pmdhist", "pmd", m)
	}
}
