import NIOCore
import Testing
@testable import Wire

@Suite("Handshake state machines")
struct HandshakeTests {
    static let token = Array("0123456789abcdef0123456789abcdef".utf8)

    @Test("both sides prove the token and agree on name and version")
    func success() throws {
        let proof = try HandshakeProof(token: Self.token)
        var router = RouterHandshake(proof: proof)
        var worker = WorkerHandshake(proof: proof, workerName: "w1")
        guard case .send(let authenticate) = try worker.receive(router.hello) else { Issue.record("no authenticate"); return }
        let welcome = try router.receive(authenticate)
        #expect(router.state == .authenticated(workerName: "w1", version: 1))
        #expect(try worker.receive(welcome) == .authenticated(version: 1))
        #expect(worker.state == .authenticated(version: 1))
    }

    @Test("the token never crosses the wire")
    func tokenNotSent() throws {
        let proof = try HandshakeProof(token: Self.token)
        var router = RouterHandshake(proof: proof)
        var worker = WorkerHandshake(proof: proof, workerName: "w1")
        guard case .send(let authenticate) = try worker.receive(router.hello) else { Issue.record("no authenticate"); return }
        let welcome = try router.receive(authenticate)
        var encoder = try WireEncoder()
        var bytes = ByteBuffer()
        for message in [router.hello, authenticate, welcome] { try encoder.encode(message, into: &bytes) }
        let wire = Array(bytes.readableBytesView)
        #expect(!wire.indices.contains { wire[$0...].starts(with: Self.token.prefix(8)) })
    }

    @Test("a worker with another token is refused by the router")
    func wrongWorkerToken() throws {
        var router = RouterHandshake(proof: try HandshakeProof(token: Self.token))
        var worker = WorkerHandshake(proof: try HandshakeProof(token: Array(repeating: 1, count: 32)), workerName: "intruder")
        guard case .send(let authenticate) = try worker.receive(router.hello) else { Issue.record("no authenticate"); return }
        #expect(throws: WireError(.authenticationFailed, "worker 'intruder' failed authentication: its proof does not match this router's token; give both the same token")) {
            _ = try router.receive(authenticate)
        }
        #expect(router.state == .failed)
    }

    @Test("a router with another token is refused by the worker (mutual authentication)")
    func wrongRouterToken() throws {
        let good = try HandshakeProof(token: Self.token)
        var fakeRouter = RouterHandshake(proof: try HandshakeProof(token: Array(repeating: 2, count: 32)))
        var worker = WorkerHandshake(proof: good, workerName: "w1")
        guard case .send(let authenticate) = try worker.receive(fakeRouter.hello) else { Issue.record("no authenticate"); return }
        // The fake router cannot verify the worker, and a welcome from a router without the token fails.
        #expect(throws: WireError.self) { _ = try fakeRouter.receive(authenticate) }
        let forged = WireMessage.welcome(Welcome(proof: Array(repeating: 0, count: 32)))
        #expect(throws: WireError.self) { _ = try worker.receive(forged) }
        #expect(worker.state == .failed)
    }

    @Test("a proof replayed on a new connection fails (fresh challenges)")
    func replay() throws {
        let proof = try HandshakeProof(token: Self.token)
        var first = RouterHandshake(proof: proof)
        var worker = WorkerHandshake(proof: proof, workerName: "w1")
        guard case .send(let recorded) = try worker.receive(first.hello) else { Issue.record("no authenticate"); return }
        _ = try first.receive(recorded)
        var second = RouterHandshake(proof: proof)
        #expect(throws: WireError.self) { _ = try second.receive(recorded) }
    }

    @Test("versions: the worker picks the highest common one, or refuses")
    func versions() throws {
        let proof = try HandshakeProof(token: Self.token)
        var router = RouterHandshake(proof: proof, versions: 1...3)
        var worker = WorkerHandshake(proof: proof, workerName: "w", versions: 1...2)
        guard case .send(.authenticate(let auth)) = try worker.receive(router.hello) else { Issue.record("no authenticate"); return }
        #expect(auth.version == 2)
        _ = try router.receive(.authenticate(auth))
        #expect(router.state == .authenticated(workerName: "w", version: 2))

        var newRouter = RouterHandshake(proof: proof, versions: 3...4)
        var oldWorker = WorkerHandshake(proof: proof, workerName: "w", versions: 1...2)
        do {
            _ = try oldWorker.receive(newRouter.hello)
            Issue.record("expected unsupportedVersion")
        } catch {
            #expect(error.code == .unsupportedVersion)
            #expect(error.message == "router speaks protocol versions 3-4; this worker speaks 1-2")
        }
        #expect(throws: WireError.self) { _ = try newRouter.receive(.credits(Credits(count: 1))) }
    }

    @Test("before authentication, other frames are refused")
    func unexpectedBeforeAuth() throws {
        let proof = try HandshakeProof(token: Self.token)
        var router = RouterHandshake(proof: proof)
        do {
            _ = try router.receive(.assign(Samples.assignment))
            Issue.record("expected unexpectedFrame")
        } catch {
            #expect(error.code == .unexpectedFrame)
            #expect(error.message.contains("received assign during the handshake; expected authenticate"))
        }
        var worker = WorkerHandshake(proof: proof, workerName: "w")
        #expect(throws: WireError.self) { _ = try worker.receive(.welcome(Welcome(proof: Array(repeating: 0, count: 32)))) }
    }

    @Test("short tokens are refused")
    func shortToken() {
        #expect(throws: WireError.self) { _ = try HandshakeProof(token: Array("secret".utf8)) }
    }
}
