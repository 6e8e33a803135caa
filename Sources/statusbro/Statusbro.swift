import ArgumentParser
import Hummingbird
import PostgresNIO
import JWTKit
import Prometheus
import Yams
import Configuration

@main
struct Statusbro: AsyncParsableCommand {
    func run() async throws {}
}
