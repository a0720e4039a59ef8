-- pipeline.lua: wrk script sending requests in pipelined batches (HTTP/1.1
-- pipelining), depth from the first script argument (default 16), path from
-- the URL. Used by tools/bench.sh for the "pipelined x16" rows.
local depth = 16
local batch

init = function(args)
    depth = tonumber(args[1]) or depth
    local r = {}
    for i = 1, depth do
        r[i] = wrk.format(nil, wrk.path)
    end
    batch = table.concat(r)
end

request = function()
    return batch
end
