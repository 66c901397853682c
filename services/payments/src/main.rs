fn main() -> anyhow::Result<()> {
    kit::server::run_service(payments::IDENTITY, || async {
        payments::build(payments::config::Config::from_env()?).await
    })
}
