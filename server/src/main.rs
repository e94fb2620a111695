use clap::Parser;
use server::{
    Server,
    config::{Cli, Command, ServeArgs},
    fixtures, open_database, shutdown_signal, telemetry,
};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.global.log_format);
    let result = run(cli).await;
    if let Err(error) = &result {
        tracing::error!(error.message = format!("{error:#}"), "token-inventory failed");
    }
    result
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let repo = open_database(&cli.global.database_url).await?;
    // No subcommand means `serve`, configured by its environment variables and defaults.
    let command = match cli.command {
        Some(command) => command,
        None => Command::Serve(Box::new(ServeArgs::from_env()?)),
    };
    match command {
        Command::Migrate => {
            println!("database is up to date");
            Ok(())
        }
        Command::Sync(args) => {
            let mut settings = args.source.settings()?;
            settings.review = args.wizard.review();
            server::sync::cli::run(repo, &settings, args.quiet).await?;
            Ok(())
        }
        Command::LoadFixture { path } => {
            let (teams, tokens) = fixtures::load(&repo, &path).await?;
            println!("loaded {teams} teams and {tokens} tokens from {}", path.display());
            Ok(())
        }
        Command::Serve(args) => {
            let server = Server::bind(&args, repo).await?;
            tracing::info!(http.addr = %server.addr, "listening");
            println!("Token Inventory is running at http://{}/", server.addr);
            server.run(shutdown_signal()).await
        }
    }
}
