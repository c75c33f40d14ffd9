-- SPDX-License-Identifier: MIT
-- The call graph of the host's object files, from nm: file A calls file B
-- when A needs a symbol that B defines. Fails (exit 1) on a cycle of calls
-- between files, and on a call that climbs a layer (runtime/<layer>/):
-- base below device and loop, which know nothing of each other, below
-- bindings, below host.
--
--   lua5.4 tests/project/callgraph.lua [BUILD_DIR]      (default build)
--   lua5.4 tests/project/callgraph.lua -v [BUILD_DIR]   also prints every edge
local verbose = arg[1] == "-v"
local build = arg[verbose and 2 or 1] or "build"

local RANK = { base = 0, device = 1, loop = 1, bindings = 2, host = 3 }

local function lines(cmd)
	local p = assert(io.popen(cmd))
	local out = {}
	for l in p:lines() do out[#out + 1] = l end
	p:close()
	return out
end

-- The layer of each object, from where its source is.
local layer_of = {}
for _, src in ipairs(lines("ls runtime/*/*.c")) do
	local layer, name = src:match("^runtime/([^/]+)/([^/]+)%.c$")
	layer_of[name .. ".o"] = layer
end

local files, defines, needs = {}, {}, {}
for obj, layer in pairs(layer_of) do
	local path = build .. "/" .. obj
	if io.open(path) then
		files[#files + 1] = obj
		needs[obj] = {}
		for _, l in ipairs(lines("nm -P " .. path)) do
			local sym, kind = l:match("^(%S+) (%a)")
			if kind == "U" then
				needs[obj][#needs[obj] + 1] = sym
			elseif kind and kind:match("%u") then
				defines[sym] = obj
			end
		end
	else
		io.stderr:write("callgraph: ", path, " is missing (build first)\n")
		os.exit(2)
	end
end
table.sort(files)

-- edges[a][b] = the symbols a takes from b
local edges = {}
for _, a in ipairs(files) do
	edges[a] = {}
	for _, sym in ipairs(needs[a]) do
		local b = defines[sym]
		if b and b ~= a then
			edges[a][b] = edges[a][b] or {}
			table.insert(edges[a][b], sym)
		end
	end
end

local failed = 0
local function fail(fmt, ...)
	failed = failed + 1
	print(string.format(fmt, ...))
end

for _, a in ipairs(files) do
	for _, b in ipairs(files) do
		local syms = edges[a][b]
		if syms then
			table.sort(syms)
			local la, lb = layer_of[a], layer_of[b]
			if verbose then
				print(string.format("%s/%s -> %s/%s: %s", la, a, lb, b, table.concat(syms, " ")))
			end
			if la ~= lb and RANK[lb] >= RANK[la] then
				fail("upward: %s/%s calls %s/%s (%s)", la, a, lb, b, table.concat(syms, " "))
			end
		end
	end
end

-- Tarjan's strongly connected components: each one with two files or more
-- is a cycle.
local index, low, onstack, stack, n = {}, {}, {}, {}, 0
local function connect(v)
	n = n + 1
	index[v], low[v] = n, n
	stack[#stack + 1] = v
	onstack[v] = true
	for _, w in ipairs(files) do
		if edges[v][w] then
			if not index[w] then
				connect(w)
				low[v] = math.min(low[v], low[w])
			elseif onstack[w] then
				low[v] = math.min(low[v], index[w])
			end
		end
	end
	if low[v] == index[v] then
		local scc = {}
		repeat
			local w = table.remove(stack)
			onstack[w] = nil
			scc[#scc + 1] = w
		until w == v
		if #scc > 1 then
			table.sort(scc)
			local inside = {}
			for _, x in ipairs(scc) do inside[x] = true end
			fail("cycle: %s", table.concat(scc, " "))
			for _, x in ipairs(scc) do
				for _, y in ipairs(scc) do
					if edges[x][y] then
						print(string.format("  %s -> %s: %s", x, y, table.concat(edges[x][y], " ")))
					end
				end
			end
		end
	end
end
for _, v in ipairs(files) do
	if not index[v] then connect(v) end
end

print(string.format("callgraph: %d files, %d problem%s", #files, failed, failed == 1 and "" or "s"))
os.exit(failed == 0 and 0 or 1)
