-- Drives Neovim's built-in LSP client (0.7+) against nix-ipfs' language server, for
-- test/integration/neovim.test.ts. Run as `nvim --headless -u NONE -c 'luafile neovim-lsp.lua'`
-- with $NIX_IPFS_NVIM_PLAN naming a JSON plan:
--   { cmd, rootDir, initOptions, file, timeoutMs, out, steps = { { id, action, ... }, ... } }
-- The client is set up as the README tells 0.7–0.9 users (an autocmd on FileType nix calling
-- start_client + buf_attach_client); each step runs one action below and its answer is written,
-- with any error, as JSON to `out`. Every wait is bounded by timeoutMs. A new kind of step is one
-- more function in `actions`.

local plan = vim.json.decode(table.concat(vim.fn.readfile(os.getenv('NIX_IPFS_NVIM_PLAN')), '\n'))
local report = { steps = {} }
local client_id, bufnr

local function finish(error_message)
  report.error = error_message
  vim.fn.writefile({ vim.json.encode(report) }, plan.out)
  vim.cmd('qa!')
end

-- Waits for `condition`, at most timeoutMs; errors with `what` when it never holds.
local function wait_for(what, condition)
  if not vim.wait(plan.timeoutMs, condition, 20) then
    error(string.format('%s: nothing within %d ms', what, plan.timeoutMs), 0)
  end
end

-- One request through the editor's own buffer request path; the answer of our client.
local function request(method, params)
  local responses, reason = vim.lsp.buf_request_sync(bufnr, method, params, plan.timeoutMs)
  local response = responses and responses[client_id]
  if not response then error(string.format('%s: no answer from the server (%s)', method, reason or 'none'), 0) end
  local err = response.err or response.error -- `error` in 0.7–0.9, `err` from 0.10
  if err then error(string.format('%s: %s', method, err.message), 0) end
  return response.result
end

-- Puts the cursor where a step points ({ line, character }, 0-based; the fixtures are ASCII).
local function move_to(at)
  vim.api.nvim_win_set_cursor(0, { at.line + 1, at.character })
end

local function diagnostic_codes()
  local codes = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do codes[d.code] = true end
  return codes
end

local actions = {}

-- Waits until the buffer has a diagnostic of each code in step.codes; returns them all.
function actions.diagnostics(step)
  wait_for('diagnostics ' .. table.concat(step.codes, ', '), function()
    local present = diagnostic_codes()
    return vim.tbl_isempty(vim.tbl_filter(function(code) return not present[code] end, step.codes))
  end)
  return vim.tbl_map(function(d)
    return { code = d.code, line = d.lnum, severity = d.severity, message = d.message }
  end, vim.diagnostic.get(bufnr))
end

-- The hover at step.at, as `K` (vim.lsp.buf.hover) would request it: its markdown text.
function actions.hover(step)
  move_to(step.at)
  local result = request('textDocument/hover', vim.lsp.util.make_position_params())
  if not result then return vim.NIL end
  return type(result.contents) == 'table' and (result.contents.value or result.contents) or result.contents
end

-- Code lenses through Neovim's codelens module (stored for codelens.get, shown as virtual text).
function actions.codeLens()
  local done, failure = false, nil
  vim.lsp.buf_request(bufnr, 'textDocument/codeLens', { textDocument = vim.lsp.util.make_text_document_params() }, function(err, result, ctx)
    vim.lsp.codelens.on_codelens(err, result, ctx)
    done, failure = true, err
  end)
  wait_for('textDocument/codeLens', function() return done end)
  if failure then error('textDocument/codeLens: ' .. failure.message, 0) end
  return vim.tbl_map(function(lens) return lens.command end, vim.lsp.codelens.get(bufnr))
end

-- The code actions at step.at (titles); with step.title, applies the first whose title contains
-- it, as vim.lsp.buf.code_action does, and returns the edited line.
function actions.codeAction(step)
  move_to(step.at)
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr) }
  local offered = request('textDocument/codeAction', params) or {}
  local answer = { titles = vim.tbl_map(function(a) return a.title end, offered) }
  if not step.title then return answer end
  local chosen = vim.tbl_filter(function(a) return a.title:find(step.title, 1, true) ~= nil end, offered)[1]
  if not chosen then error('no code action titled like "' .. step.title .. '"', 0) end
  if chosen.edit then
    vim.lsp.util.apply_workspace_edit(chosen.edit, vim.lsp.get_client_by_id(client_id).offset_encoding)
  end
  if chosen.command then answer.commandResult = request('workspace/executeCommand', chosen.command) end
  answer.applied = chosen.title
  answer.line = vim.api.nvim_buf_get_lines(bufnr, step.at.line, step.at.line + 1, true)[1]
  return answer
end

-- workspace/executeCommand: step.command with step.arguments, or the command and arguments of the
-- code lens whose title contains step.lens (step.command, when given, replaces the lens's command).
function actions.executeCommand(step)
  local command = { command = step.command, arguments = step.arguments }
  if step.lens then
    local lens = vim.tbl_filter(function(l) return l.command.title:find(step.lens, 1, true) ~= nil end, vim.lsp.codelens.get(bufnr))[1]
    if not lens then error('no code lens titled like "' .. step.lens .. '": run a codeLens step first', 0) end
    command = { command = step.command or lens.command.command, arguments = lens.command.arguments }
  end
  return request('workspace/executeCommand', command)
end

-- Freezes the server (SIGSTOP), as a hung server would be: the steps after it must fail.
function actions.freezeServer()
  vim.loop.kill(vim.lsp.get_client_by_id(client_id).rpc.pid, 'sigstop')
  return vim.NIL
end

local function start_client()
  vim.api.nvim_create_autocmd('FileType', {
    pattern = 'nix',
    callback = function(args)
      client_id = client_id or vim.lsp.start_client({
        name = 'nix-ipfs',
        cmd = plan.cmd,
        root_dir = plan.rootDir,
        init_options = plan.initOptions,
        on_exit = function(code, signal)
          report.serverExit = { code = code, signal = signal }
        end,
      })
      vim.lsp.buf_attach_client(args.buf, client_id)
    end,
  })
  vim.cmd('filetype on')
  vim.cmd('edit ' .. vim.fn.fnameescape(plan.file))
  bufnr = vim.api.nvim_get_current_buf()
  wait_for('the server to initialize', function()
    local client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.initialized and vim.lsp.buf_is_attached(bufnr, client_id)
  end)
end

local function run()
  start_client()
  for _, step in ipairs(plan.steps) do
    local action = actions[step.action]
    if not action then error('unknown step action ' .. tostring(step.action), 0) end
    local ok, result = pcall(action, step)
    report.steps[step.id] = ok and { result = result } or { error = tostring(result) }
  end
end

local ok, error_message = pcall(run)
finish(not ok and tostring(error_message) or nil)
