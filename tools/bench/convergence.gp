# convergence.gp: docs/bench-convergence.png from tally-sim's rows
# (tools/bench.sh writes the data file): rounds until a count reaches every
# node, against cluster size, one line per loss rate, beside log2(N) and the
# 2 log2(N) + 5 target. Run: gnuplot -e "dat='FILE'; out='PNG'" convergence.gp
set terminal pngcairo size 900,560 font ",11"
set output out
set title "tally gossip: rounds to converge vs cluster size (tally-sim, fanout 3)"
set xlabel "nodes N"
set ylabel "rounds"
set logscale x 10
set xrange [2.5:1300]
set yrange [0:*]
set key top left
set grid
lg(x) = log(x) / log(2)
# One filtered stream per loss rate so each line connects its points; a row
# that never converged (-1) is left out.
sel(l, col) = sprintf("< awk '!/^#/ && $2 == %s && $%d >= 0 {print $1, $%d}' %s", l, col, col, dat)
plot \
  sel("0.00", 4) using 1:2 with linespoints lw 2 title "count reaches all, 0% loss", \
  sel("0.10", 4) using 1:2 with linespoints lw 2 title "count reaches all, 10% loss", \
  sel("0.30", 4) using 1:2 with linespoints lw 2 title "count reaches all, 30% loss", \
  sel("0.10", 3) using 1:2 with linespoints dt 3 lw 2 title "all join (membership), 10% loss", \
  lg(x) with lines dt 2 lc rgb "black" title "log2(N)", \
  2 * lg(x) + 5 with lines dt 4 lc rgb "red" title "target 2 log2(N) + 5"
