// granska: wiring only. Parses the command line, picks the concrete store, and hands over to the modules.

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "api/server.h"
#include "core/error.h"
#include "detect/registry.h"
#include "engine/analysis.h"
#include "engine/ingest_upload.h"
#include "ingest/parse_options.h"
#include "jobs/job_queue.h"
#include "jobs/tasks.h"
#include "jobs/worker_pool.h"
#include "output.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "strategy/strategy.h"
#include "transform/holidays.h"
#include "transform/row_transformer.h"

namespace granska {
namespace {

constexpr std::string_view kDefaultDb = "sqlite://./granska-data/granska.db";

// A failure that ends the command with the error's exit code.
struct CommandError {
    Error error;
};

[[noreturn]] void Fail(Error error) { throw CommandError{std::move(error)}; }

template <typename T>
T Take(Expected<T> expected) {
    if (!expected) Fail(std::move(expected).error());
    if constexpr (!std::is_void_v<T>) return std::move(*expected);
}

std::unique_ptr<store::Store> ConnectStore(std::string_view url) {
    if (url.starts_with("sqlite://")) {
        const std::string path(url.substr(std::string_view("sqlite://").size()));
        if (path.empty())
            Fail(BadRequest("bad_db_url", "A SQLite URL needs a path: sqlite://./granska-data/granska.db"));
        return store::OpenSqliteStore(path);
    }
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
        return store::OpenPostgresStore(std::string(url));
    }
    Fail(BadRequest("bad_db_url", fmt::format("Unknown database URL '{}': use sqlite://PATH or postgresql://…", url)));
}

// Every command that uses the database first brings its schema up to date.
std::unique_ptr<store::Store> OpenStore(std::string_view url) {
    auto store = ConnectStore(url);
    store->Migrate();
    return store;
}

std::string ReadWholeFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) Fail(BadRequest("unreadable_file", fmt::format("Cannot read '{}'.", path)));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

// The parse options as flags: the same names and checks as the upload form's fields (ingest/parse_options.h).
struct ParseFlags {
    std::map<std::string, std::string, std::less<>> values;  // option name -> value, only those given
    bool lenient = false;
    uint64_t max_rows = 0;

    void AddTo(CLI::App* command) {
        auto add = [&](std::string flag, std::string name, std::string help) {
            command->add_option_function<std::string>(
                flag, [this, name](const std::string& value) { values[name] = value; }, std::move(help));
        };
        add("--format", "format", "csv, json, xlsx, xls, sie or xml (default: detected from the content)");
        add("--delimiter", "delimiter", "CSV field delimiter: , ; | or tab (default: detected)");
        add("--quote", "quote", "CSV quote character: \" or ' (default: \")");
        add("--decimal", "decimal", "decimal separator . or , (default: detected from the data)");
        add("--thousands", "thousands", "thousands separator: space . , ' or none (default: detected)");
        add("--date-format", "date_format", "iso, ymd, dmy or mdy (default: detected from the data)");
        add("--encoding", "encoding", "utf-8, utf-16le, utf-16be or windows-1252 (default: detected)");
        add("--sheet", "sheet", "Excel: the sheet to read (default: the first non-empty one)");
        add("--element", "element", "XML: path of the repeated element, e.g. Export/Rows/Row (default: detected)");
        add("--bad-rows", "bad_rows", "skip_row (load good rows, report bad ones) or reject_file");
        add("--mapping", "mapping", R"(column mapping JSON, e.g. {"amount": "Belopp SEK"})");
        add("--country", "country", "public holidays of: SE or none (default: SE)");
        add("--fiscal-year-start", "fiscal_year_start", "first day of the fiscal year, MM-DD (default: 01-01)");
        command->add_flag("--lenient", lenient, "SIE: accept what can be read safely, keeping the diagnostics");
        command->add_option("--max-rows", max_rows, "refuse files with more rows than this");
    }

    std::optional<std::string> Lookup(std::string_view name) const {
        const auto it = values.find(name);
        return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
    }

    ingest::ParseOptions Options(const std::string& file) const {
        ingest::ParseOptions options =
            Take(ingest::ParseOptionsFromFields([this](std::string_view name) { return Lookup(name); }));
        options.lenient = options.lenient || lenient;
        if (max_rows > 0) options.limits.max_rows = max_rows;
        options.file_name = std::filesystem::path(file).filename().string();
        return options;
    }

    engine::UploadCalendar Calendar() const {
        return Take(engine::CalendarFromFields([this](std::string_view name) { return Lookup(name); }));
    }

    std::string Mapping() const {
        const auto it = values.find("mapping");
        return it == values.end() ? "{}" : it->second;
    }
};

struct AnalyzeArgs {
    std::string file;
    std::string strategy_name;
    std::string strategy_file;
    std::string output;
    std::string models_dir;       // --models: score with <label>.model.json from here instead of fitting
    std::string save_models_dir;  // --save-models: write the fitted models here as <label>.model.json
    ParseFlags parse;
    size_t top = 10;
    bool quiet = false;
};

// Where an ML algorithm's model lives in a --models / --save-models folder.
std::filesystem::path ModelPath(const std::string& dir, const std::string& label) {
    if (label.find_first_of("/\\") != std::string::npos || label.starts_with('.')) {
        Fail(BadRequest("bad_label", fmt::format("The label '{}' cannot name a model file: use letters, digits, '-' "
                                                 "and '_'.",
                                                 label)));
    }
    return std::filesystem::path(dir) / (label + ".model.json");
}

// The saved model of every ML algorithm of the strategy, from --models DIR; each must be there.
std::map<std::string, std::string, std::less<>> ReadModels(const std::string& dir, const strategy::Strategy& strategy) {
    std::map<std::string, std::string, std::less<>> models;
    for (const strategy::AlgorithmSpec& spec : strategy.algorithms) {
        if (spec.type != detect::AlgorithmType::kMlBased) continue;
        const std::filesystem::path path = ModelPath(dir, spec.label);
        if (!std::filesystem::is_regular_file(path)) {
            Fail(BadRequest("missing_model", fmt::format("No model for '{}' in {}: expected {} (written by "
                                                         "`granska analyze --save-models {}`).",
                                                         spec.label, dir, path.string(), dir)));
        }
        models.emplace(spec.label, ReadWholeFile(path.string()));
    }
    if (models.empty()) {
        Fail(BadRequest("no_model_algorithm", fmt::format("--models {}: the strategy '{}' has no ML algorithm "
                                                          "(isolation_forest, autoencoder, clustering).",
                                                          dir, strategy.name)));
    }
    return models;
}

// The strategy a preset name or a strategy file gives.
strategy::Strategy LoadStrategy(std::string_view preset_name, const std::string& strategy_file,
                                const detect::Registry& registry) {
    std::string strategy_json;
    if (!strategy_file.empty()) {
        strategy_json = ReadWholeFile(strategy_file);
    } else {
        const strategy::Preset* preset = strategy::FindPreset(preset_name);
        if (preset == nullptr) {
            Fail(BadRequest("unknown_strategy",
                            fmt::format("Unknown strategy '{}'; see `granska strategies list`.", preset_name)));
        }
        strategy_json = std::string(preset->json);
    }
    auto parsed = strategy::ParseStrategy(strategy_json, registry);
    if (!parsed) {
        Error error = std::move(parsed).error();
        if (!strategy_file.empty()) error.file = strategy_file;
        Fail(std::move(error));
    }
    return std::move(*parsed);
}

int Analyze(const AnalyzeArgs& args, const std::string& db_url, const detect::Registry& registry) {
    // A named strategy is checked before the file is read; without one, the file decides (a ledger gets the
    // journal-entry audit) once it is in.
    const bool chosen = !args.strategy_file.empty() || !args.strategy_name.empty();
    std::optional<strategy::Strategy> parsed;
    if (chosen) parsed = LoadStrategy(args.strategy_name, args.strategy_file, registry);

    const ingest::ParseOptions parse = args.parse.Options(args.file);
    const engine::UploadCalendar calendar = args.parse.Calendar();
    std::error_code size_error;
    const auto file_size = std::filesystem::file_size(args.file, size_error);
    if (size_error)
        Fail(BadRequest("unreadable_file", fmt::format("Cannot read '{}': {}.", args.file, size_error.message())));

    auto store = OpenStore(db_url);
    const bool show_progress = !args.quiet && StderrIsTerminal();
    const ingest::Format format =
        parse.format.value_or(ingest::DetectFileFormat(args.file).value_or(ingest::Format::kCsv));
    const store::Upload upload = store->CreateUpload({.workspace_id = std::string(store::kDefaultWorkspaceId),
                                                      .filename = parse.file_name,
                                                      .file_type = std::string(ingest::FormatName(format)),
                                                      .file_size = static_cast<int64_t>(file_size),
                                                      .mapping = ingest::MappingJson(parse.mapping)});
    engine::IngestOptions ingest_options{.parse = parse, .calendar = calendar};
    if (show_progress) {
        ingest_options.progress = [&](uint64_t read, uint64_t total) {
            fmt::print(stderr, "\rreading {}: {:3.0f}%", parse.file_name, total > 0 ? 100.0 * read / total : 0.0);
        };
    }
    const engine::IngestReport ingested =
        engine::IngestFile(*store, store::kDefaultWorkspaceId, upload.id, args.file, ingest_options);
    if (show_progress) fmt::print(stderr, "\r\033[K");
    if (!args.quiet || !ingested.ok()) cli::PrintParseReport(ingested.parse, parse.file_name, stderr);
    if (!ingested.ok()) Fail(*ingested.parse.error);

    if (!chosen) {
        const auto stored = store->GetUpload(store::kDefaultWorkspaceId, upload.id);
        parsed = LoadStrategy(strategy::DefaultPresetFor(stored ? stored->metadata : "{}"), "", registry);
    }
    const store::Run run = store->CreateRun({.workspace_id = std::string(store::kDefaultWorkspaceId),
                                             .upload_id = upload.id,
                                             .strategy_name = parsed->name,
                                             .configuration = parsed->json});
    engine::AnalysisOptions analysis_options;
    if (!args.models_dir.empty()) analysis_options.models = ReadModels(args.models_dir, *parsed);
    if (show_progress) {
        analysis_options.progress = [](std::string_view stage, double fraction) {
            fmt::print(stderr, "\r\033[Kanalyzing: {} {:3.0f}%", stage, 100.0 * fraction);
        };
    }
    const auto outcome =
        Take(engine::RunAnalysis(*store, registry, store::kDefaultWorkspaceId, run.id, analysis_options));
    if (show_progress) fmt::print(stderr, "\r\033[K");

    if (!args.output.empty()) Take(cli::WriteOutput(outcome, args.output));
    std::vector<std::string> saved_models;
    if (!args.save_models_dir.empty()) {
        std::error_code error;
        std::filesystem::create_directories(args.save_models_dir, error);
        for (const auto& [label, document] : outcome.models) {
            const std::filesystem::path path = ModelPath(args.save_models_dir, label);
            std::ofstream out(path, std::ios::binary);
            out << document;
            out.close();
            if (error || !out) {
                Fail(BadRequest("unwritable_model", fmt::format("Cannot write the model {}.", path.string())));
            }
            saved_models.push_back(path.string());
        }
    }
    if (!args.quiet) {
        const double share =
            ingested.rows > 0 ? 100.0 * static_cast<double>(outcome.flagged_count) / static_cast<double>(ingested.rows)
                              : 0.0;
        fmt::print("{}: {} rows, {} flagged ({:.2f} %) by strategy '{}'\nupload {}  run {}\n\n", parse.file_name,
                   ingested.rows, outcome.flagged_count, share, parsed->name, upload.id, run.id);
        cli::PrintTopAnomalies(outcome, args.top, stdout);
        if (!args.output.empty()) fmt::print("\nscores of every row: {}\n", args.output);
        for (const std::string& path : saved_models) fmt::print("model saved: {}\n", path);
        if (!args.save_models_dir.empty() && saved_models.empty()) {
            fmt::print("no model saved: the strategy fitted none (only isolation_forest, autoencoder and clustering "
                       "fit models)\n");
        }
    }
    return 0;
}

struct ValidateArgs {
    std::string file;
    ParseFlags parse;
    bool json = false;
};

// Parses and checks a file without storing it: the validation report an upload would get.
int Validate(const ValidateArgs& args) {
    const ingest::ParseOptions parse = args.parse.Options(args.file);
    const engine::UploadCalendar calendar = args.parse.Calendar();
    transform::RowTransformer transformer(parse.file_name,
                                          Take(transform::HolidayCalendar::ForCountry(calendar.country)));
    const ingest::ParseReport report =
        ingest::ParseFile(engine::BuiltinParsers(), args.file, parse,
                          [&transformer](std::span<Transaction> batch) { return transformer.Apply(batch); });
    if (args.json) {
        fmt::print("{}\n", engine::UploadMetadataJson(report, calendar));
    } else {
        cli::PrintParseReport(report, parse.file_name, stdout, ingest::ParseReport::kMaxProblems);
    }
    if (!report.ok()) Fail(*report.error);
    return 0;
}

// Exit codes a supervisor (systemd, docker compose) acts on, besides 0 (stopped by SIGTERM/SIGINT), 1 (internal) and
// 2 (bad usage or configuration: do not restart as is).
constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: the database or Redis cannot be reached; restart later

// The database or the queue cannot be reached at start-up: the process ends with kExitUnavailable.
struct Unavailable {
    std::string message;
};

// The store of a long-running process (serve, worker): one that cannot be reached is Unavailable.
std::unique_ptr<store::Store> OpenServiceStore(std::string_view url) {
    try {
        return OpenStore(url);
    } catch (const CommandError&) {
        throw;
    } catch (const std::exception& e) {
        throw Unavailable{fmt::format("cannot use the database {}: {}", url, e.what())};
    }
}

// Job options shared by `serve` and `worker`.
struct JobFlags {
    std::string queue = "local";
    int lease_seconds = 30;
    int stop_grace_seconds = 30;

    void AddTo(CLI::App* command) {
        command->add_option("--queue", queue, "job queue: local (in-process, the jobs table) or redis://HOST:PORT/DB")
            ->envname("GRANSKA_QUEUE")
            ->capture_default_str();
        command
            ->add_option("--lease-seconds", lease_seconds,
                         "a worker that stops renewing its job's lease for this long loses the job to another")
            ->check(CLI::Range(1, 3600))
            ->capture_default_str();
        command
            ->add_option("--stop-grace-seconds", stop_grace_seconds,
                         "on SIGTERM, running jobs may finish this long before they are handed back")
            ->check(CLI::Range(0, 3600))
            ->capture_default_str();
    }

    // The embedded default (SQLite, local queue) has one server process: the jobs a killed server held are taken
    // again at start-up, and a lease never expires under a live one (SQLite renewals can wait behind a long write).
    std::chrono::milliseconds Lease(const store::Store& store) const {
        if (store.Backend() == "sqlite") return std::chrono::hours(24);
        return std::chrono::seconds(lease_seconds);
    }
};

std::unique_ptr<jobs::JobQueue> OpenJobQueue(const JobFlags& flags, store::Store& store) {
    auto queue = jobs::OpenQueue(flags.queue, store, {});
    if (!queue && queue.error().kind == ErrorKind::kBadRequest) Fail(std::move(queue).error());
    if (!queue) throw Unavailable{queue.error().ToString()};
    if (store.Backend() == "sqlite") {
        if (const int taken = store.ExpireLeases(); taken > 0) {
            spdlog::warn("{} job(s) were running when the server last stopped; they start again", taken);
        }
    }
    return std::move(*queue);
}

// Signals are taken by one thread with sigwait; every other thread inherits the blocked mask.
sigset_t BlockStopSignals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    return signals;
}

int Serve(const std::string& listen, const std::string& db_url, const std::string& upload_dir, uint64_t max_upload_mb,
          uint64_t max_rows, int workers, const JobFlags& job_flags, const detect::Registry& registry) {
    api::ServerOptions options{.upload_dir = upload_dir,
                               .max_upload_bytes = max_upload_mb << 20,
                               .max_rows = max_rows,
                               .workers = workers,
                               .stop_grace = std::chrono::seconds(job_flags.stop_grace_seconds)};
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) Fail(BadRequest("bad_listen", "--listen must be HOST:PORT, e.g. 127.0.0.1:8080"));
    options.host = listen.substr(0, colon);
    try {
        options.port = std::stoi(listen.substr(colon + 1));
    } catch (const std::exception&) {
        Fail(BadRequest("bad_listen", fmt::format("--listen '{}': the port is not a number.", listen)));
    }

    sigset_t signals = BlockStopSignals();
    auto store = OpenServiceStore(db_url);
    auto queue = OpenJobQueue(job_flags, *store);
    options.job_lease = job_flags.Lease(*store);
    api::Server server(*store, registry, *queue, options);
    Take(server.Bind());
    std::jthread signal_waiter([&server, &signals] {
        int received = 0;
        sigwait(&signals, &received);
        server.Stop();
    });
    fmt::print("granska {} listening on http://{}:{} (database: {}, queue: {}, {} worker(s))\n", GRANSKA_VERSION,
               options.host, server.Port(), store->Backend(), queue->Name(), workers);
    std::fflush(stdout);
    server.Run();
    pthread_kill(signal_waiter.native_handle(), SIGTERM);  // wake the waiter when Run ended on its own
    server.Stop();
    queue->Close();
    return 0;
}

// A job worker for the distributed set-up: takes uploads and analyses from the queue until SIGTERM or SIGINT, then
// lets its running jobs finish for the grace period and hands the rest back.
int Worker(const std::string& db_url, int concurrency, const JobFlags& job_flags, const detect::Registry& registry) {
    sigset_t signals = BlockStopSignals();
    auto store = OpenServiceStore(db_url);
    if (store->Backend() == "sqlite") {
        Error error = BadRequest("worker_needs_shared_database",
                                 "granska worker needs a database it shares with the API: use --db postgresql://… "
                                 "(with the embedded SQLite database, `granska serve` runs the jobs itself).");
        error.column = "db";
        Fail(std::move(error));
    }
    auto queue = OpenJobQueue(job_flags, *store);
    jobs::WorkerPool pool(
        *store, *queue, jobs::BuiltinTasks(*store, registry, *queue),
        {.name = jobs::ProcessWorkerName(), .concurrency = concurrency, .lease = job_flags.Lease(*store)});
    pool.Start();
    spdlog::info("worker {} started: {} job(s) at once, database {}, queue {}", jobs::ProcessWorkerName(), concurrency,
                 store->Backend(), queue->Name());
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("worker {}: {} received, stopping (running jobs may finish for {} s)", jobs::ProcessWorkerName(),
                 received == SIGTERM ? "SIGTERM" : "SIGINT", job_flags.stop_grace_seconds);
    pool.Stop(std::chrono::seconds(job_flags.stop_grace_seconds));
    queue->Close();
    const jobs::WorkerPool::Stats stats = pool.GetStats();
    spdlog::info("worker {} stopped: {} completed, {} failed, {} handed back", jobs::ProcessWorkerName(),
                 stats.completed, stats.failed, stats.handed_back);
    return 0;
}

void ListAlgorithms(const detect::Registry& registry) {
    for (const detect::AlgorithmInfo* info : registry.List()) {
        fmt::print("{} [{}]\n  {}\n", info->name, detect::TypeName(info->type), info->description);
        for (const auto& param : info->params) {
            fmt::print("    {:<22} {:<8} default {:<16} {}\n", param.name, param.type, param.default_value,
                       param.description);
        }
    }
}

void ListStrategies() {
    for (const strategy::Preset& preset : strategy::Presets()) {
        const std::string_view role = preset.name == strategy::kLedgerPreset    ? " (default for ledgers)"
                                      : preset.name == strategy::kDefaultPreset ? " (default for other files)"
                                                                                : "";
        fmt::print("{}{}\n  {}\n", preset.name, role, preset.description);
    }
}

int Main(int argc, char** argv) {
    CLI::App app{"Granska finds anomalies in financial transactions."};
    app.set_version_flag("--version", std::string(GRANSKA_VERSION));
    app.set_config("--config", "", "read options from a TOML file");
    app.require_subcommand(1);
    app.fallthrough();  // subcommands inherit it: `granska serve --db URL` works as well as `granska --db URL serve`
    std::string db_url(kDefaultDb);
    app.add_option("--db", db_url, "database URL: sqlite://PATH or postgresql://USER@HOST:PORT/DB")
        ->envname("GRANSKA_DB")
        ->capture_default_str();

    AnalyzeArgs analyze;
    CLI::App* analyze_cmd = app.add_subcommand("analyze", "ingest a file, analyze it, print the top anomalies");
    analyze_cmd->add_option("file", analyze.file, "the transactions file: CSV, JSON, Excel, SIE4 or XML")
        ->required()
        ->check(CLI::ExistingFile);
    auto* strategy_opt = analyze_cmd->add_option("--strategy", analyze.strategy_name, "a built-in strategy by name (default: journal-entry-audit for a ledger — an SIE file or a file with voucher numbers —, bank-transactions for a statement — a camt message or a file with neither accounts nor voucher numbers —, quick-scan otherwise)");
    analyze_cmd->add_option("--strategy-file", analyze.strategy_file, "a strategy JSON file")->excludes(strategy_opt);
    analyze_cmd->add_option("--output,-o", analyze.output, "write every row's scores to OUT.csv or OUT.json");
    analyze_cmd->add_option("--save-models", analyze.save_models_dir,
                            "write the models the ML algorithms fit to DIR/<label>.model.json");
    analyze_cmd->add_option("--models", analyze.models_dir,
                            "score with the models in DIR (from --save-models) instead of fitting new ones")
        ->check(CLI::ExistingDirectory);
    analyze.parse.AddTo(analyze_cmd);
    analyze_cmd->add_option("--top", analyze.top, "rows in the printed table")->capture_default_str();
    analyze_cmd->add_flag("--quiet,-q", analyze.quiet, "print nothing but errors");

    ValidateArgs validate;
    CLI::App* validate_cmd =
        app.add_subcommand("validate", "parse a file and print its validation report, storing nothing");
    validate_cmd->add_option("file", validate.file, "the transactions file: CSV, JSON, Excel, SIE4 or XML")
        ->required()
        ->check(CLI::ExistingFile);
    validate.parse.AddTo(validate_cmd);
    validate_cmd->add_flag("--json", validate.json, "print the report as JSON (the upload's metadata)");

    std::string listen = "127.0.0.1:8080";
    std::string upload_dir = "granska-data/uploads";
    uint64_t max_upload_mb = 1024;
    JobFlags job_flags;
    int workers = 1;
    CLI::App* serve_cmd = app.add_subcommand("serve", "run the REST API");
    serve_cmd->add_option("--listen", listen, "HOST:PORT")->envname("GRANSKA_LISTEN")->capture_default_str();
    serve_cmd->add_option("--upload-dir", upload_dir, "where uploaded files are kept")
        ->envname("GRANSKA_UPLOAD_DIR")
        ->capture_default_str();
    serve_cmd->add_option("--max-upload-mb", max_upload_mb, "largest accepted upload")
        ->envname("GRANSKA_MAX_UPLOAD_MB")
        ->capture_default_str();
    uint64_t max_rows = api::ServerOptions{}.max_rows;
    serve_cmd->add_option("--max-rows", max_rows, "most transactions one upload may have")
        ->envname("GRANSKA_MAX_ROWS")
        ->capture_default_str();
    job_flags.AddTo(serve_cmd);
    serve_cmd->add_option("--workers", workers, "jobs (uploads, analyses) this process runs at once; 0 = none")
        ->envname("GRANSKA_WORKERS")
        ->check(CLI::Range(0, 64))
        ->capture_default_str();

    int concurrency = 1;
    CLI::App* worker_cmd =
        app.add_subcommand("worker", "run uploads and analyses from the job queue (the distributed set-up)");
    job_flags.AddTo(worker_cmd);
    worker_cmd->add_option("--concurrency", concurrency, "jobs this worker runs at once")
        ->envname("GRANSKA_CONCURRENCY")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();

    CLI::App* migrate_cmd = app.add_subcommand("migrate", "apply database migrations");
    CLI::App* algorithms_cmd = app.add_subcommand("algorithms", "list algorithms and their parameters");
    algorithms_cmd->add_subcommand("list", "list algorithms")->fallthrough();
    CLI::App* strategies_cmd = app.add_subcommand("strategies", "list built-in strategies");
    strategies_cmd->add_subcommand("list", "list strategies")->fallthrough();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }

    detect::Registry registry;
    detect::RegisterBuiltinAlgorithms(registry);
    try {
        if (*analyze_cmd) return Analyze(analyze, db_url, registry);
        if (*validate_cmd) return Validate(validate);
        if (*serve_cmd) {
            return Serve(listen, db_url, upload_dir, max_upload_mb, max_rows, workers, job_flags, registry);
        }
        if (*worker_cmd) return Worker(db_url, concurrency, job_flags, registry);
        if (*migrate_cmd) {
            auto store = OpenStore(db_url);
            fmt::print("{} schema at version {}\n", store->Backend(), store->Migrate());
            return 0;
        }
        if (*algorithms_cmd) {
            ListAlgorithms(registry);
            return 0;
        }
        if (*strategies_cmd) {
            ListStrategies();
            return 0;
        }
    } catch (const CommandError& failure) {
        fmt::print(stderr, "granska: error: {}\n", failure.error.ToString());
        return ExitCode(failure.error.kind);
    } catch (const Unavailable& failure) {
        fmt::print(stderr, "granska: error: {}\n", failure.message);
        return kExitUnavailable;
    } catch (const std::exception& e) {
        fmt::print(stderr, "granska: internal error: {}\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace
}  // namespace granska

int main(int argc, char** argv) { return granska::Main(argc, argv); }
