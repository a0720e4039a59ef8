# gossip-sim.gp: docs/bench-gossip.png from tools/bench/gossip-sim.sh's table:
# rounds for one change to reach every node and for a cold join, against
# cluster size, at 10% and 30% loss (the worst seed of each row), beside the
# targets of "Gossip at memberlist's scale". Data: one line per (N, loss):
#   N loss join single
# Run: gnuplot -e "dat='FILE'; out='PNG'" tools/bench/gossip-sim.gp
set terminal pngcairo size 900,560 font ",11"
set output out
set title "tally gossip (tally-sim, worst of seeds 42, 7, 1234): rounds vs cluster size"
set xlabel "nodes N"
set ylabel "rounds"
set logscale x 10
set xrange [7:1400]
set yrange [0:50]
set key top left
set grid
sel(l, col) = sprintf("< awk '!/^#/ && $2 == %s && $%d >= 0 {print $1, $%d}' %s", l, col, col, dat)
$single10 << EOD
10 9
100 11
1000 12
EOD
$single30 << EOD
10 12
100 14
1000 16
EOD
$join10 << EOD
10 12
100 19
1000 25
EOD
plot \
  sel("0.1", 4) using 1:2 with linespoints lw 2 lc 1 title "one change reaches all, 10% loss", \
  sel("0.3", 4) using 1:2 with linespoints lw 2 lc 2 title "one change reaches all, 30% loss", \
  sel("0.1", 3) using 1:2 with linespoints lw 2 lc 3 title "cold join, 10% loss", \
  sel("0.3", 3) using 1:2 with linespoints lw 2 lc 4 title "cold join, 30% loss", \
  $single10 using 1:2 with lines dt 2 lc 1 title "target: one change, 10%", \
  $single30 using 1:2 with lines dt 2 lc 2 title "target: one change, 30%", \
  $join10 using 1:2 with lines dt 2 lc 3 title "target: cold join, 10%"
