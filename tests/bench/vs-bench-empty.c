/* An empty preload library: the floor of what preloading any library costs at exec time. */
int vs_bench_empty_marker;
