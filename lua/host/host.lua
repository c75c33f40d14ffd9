-- SPDX-License-Identifier: MIT
-- rpmsg.host: the Lua side of script generations in the rpmsg-lua host.
-- The host (runtime/host/host.c) drives the transaction in C; these helpers do
-- the table work around it, loaded at the first reload.
local M = {}

-- Removes from package.loaded the modules found in dir (the script's own
-- folder), so the new generation loads them afresh. Returns what it removed,
-- for restore() if the new generation fails.
function M.unload_local_modules(dir)
  local removed = {}
  for name, value in pairs(package.loaded) do
    if type(name) == "string" and package.searchpath(name, dir .. "/?.lua") then
      removed[name] = value
    end
  end
  for name in pairs(removed) do package.loaded[name] = nil end
  return removed
end

function M.restore_modules(removed)
  for name, value in pairs(removed) do package.loaded[name] = value end
end

return M
