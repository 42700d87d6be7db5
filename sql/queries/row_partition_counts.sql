-- How many changes a partition ($1, its name) holds, and how many of them are beyond the seal watermark $2.
SELECT changes, unsealed FROM fence.row_partition_counts($1, $2)
