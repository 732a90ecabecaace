-- Headless Neovim with nbbridge started with JUPYTER_SERVER_URL and JUPYTER_TOKEN, as
-- docs/editors.md says: the server's kernel started for a `# %%` file, a cell run there
-- with nbbridge.runCell, then completion of a name only that kernel knows.
local file = vim.env.NBBRIDGE_NVIM_FILE
local out = vim.env.NBBRIDGE_NVIM_OUT
local python = vim.env.NBBRIDGE_PYTHON
local report = { steps = {} }

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local config = {
    name = "nbbridge",
    cmd = { python, "-m", "bridge", "serve" },
    root_dir = vim.fn.fnamemodify(file, ":h"),
  }
  local client_id
  if vim.lsp.start then
    client_id = vim.lsp.start(config)
  else -- Neovim 0.7
    client_id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(buf, client_id)
  end
  local client = vim.lsp.get_client_by_id(client_id)
  assert(vim.wait(60000, function() return client.initialized end, 50), "no initialize")
  table.insert(report.steps, "initialized")

  local listed = client.request_sync("kernel/servers/list", {}, 60000, buf)
  assert(listed and listed.result and #listed.result.servers == 1, vim.inspect(listed))
  local server = listed.result.servers[1]
  local uri = vim.uri_from_bufnr(buf)
  local started = client.request_sync("kernel/start", { serverId = server.serverId, notebookUri = uri },
    120000, buf)
  assert(started and started.result, "kernel/start failed: " .. vim.inspect(started))
  report.kernel = started.result
  table.insert(report.steps, "started")

  local ran = client.request_sync("workspace/executeCommand", {
    command = "nbbridge.runCell",
    arguments = { { textDocument = { uri = uri }, position = { line = 1, character = 0 } } },
  }, 120000, buf)
  assert(ran and ran.result, "runCell failed: " .. vim.inspect(ran))
  report.run = ran.result
  table.insert(report.steps, "ran")

  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local target = #lines - 1
  local params = { textDocument = { uri = uri }, position = { line = target, character = #lines[target + 1] } }
  for _ = 1, 50 do
    local answers = vim.lsp.buf_request_sync(buf, "textDocument/completion", params, 30000)
    local labels = {}
    for _, answer in pairs(answers or {}) do
      local result = answer.result or {}
      for _, entry in ipairs(result.items or result) do
        table.insert(labels, entry.label)
      end
    end
    report.labels = labels
    if vim.tbl_contains(labels, "on_the_server") then break end
    vim.wait(100)
  end
  table.insert(report.steps, "completed")
  client.stop()
  vim.wait(30000, function() return client.is_stopped() end, 50)
  table.insert(report.steps, "stopped")
end)
if not ok then report.error = tostring(err) end
vim.fn.writefile({ vim.fn.json_encode(report) }, out)
vim.cmd("qall!")
