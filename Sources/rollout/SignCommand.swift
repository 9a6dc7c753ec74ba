import ArgumentParser
import FleetAWS
import Foundation

/// `rollout sign`: sign a firmware image with an ECDSA P-256 key (the signature job documents carry), verify a
/// signature, or generate a signing key pair.
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a firmware image (ECDSA P-256 over SHA-256, DER, base64), verify a signature, or make a key.",
        discussion: """
        rollout sign --key KEY.pem FIRMWARE                       print the base64 signature
        rollout sign --verify --public-key PUB.pem FIRMWARE SIG   SIG: base64 text, or a file holding it
        rollout sign --generate-key OUT.pem                       write OUT.pem (0600) and OUT.pub.pem
        """)

    @Option(name: .long, help: "PEM EC P-256 private key to sign with.")
    var key: String?

    @Flag(name: .long, help: "Verify SIGNATURE instead of signing.")
    var verify = false

    @Option(name: .customLong("public-key"), help: "PEM public key to verify with (or the private key's own).")
    var publicKey: String?

    @Option(name: .customLong("generate-key"), help: "Write a new private key here (0600) and its public key beside it.")
    var generateKey: String?

    @Argument(help: "The firmware image.")
    var firmware: String?

    @Argument(help: "With --verify: the base64 signature, or a file holding it.")
    var signature: String?

    func validate() throws {
        if let generateKey {
            guard key == nil, !verify, firmware == nil else {
                throw ValidationError("--generate-key takes no other option or argument")
            }
            guard !FileManager.default.fileExists(atPath: generateKey) else {
                throw ValidationError("\(generateKey) exists; refusing to overwrite a key")
            }
            return
        }
        guard firmware != nil else { throw ValidationError("missing the FIRMWARE file") }
        if verify {
            guard publicKey != nil || key != nil else { throw ValidationError("--verify needs --public-key PUB.pem") }
            guard signature != nil else { throw ValidationError("--verify needs the SIGNATURE") }
        } else {
            guard key != nil else { throw ValidationError("signing needs --key KEY.pem") }
            guard signature == nil else { throw ValidationError("a SIGNATURE argument only goes with --verify") }
        }
    }

    func run() async throws {
        if let generateKey {
            try Self.generate(at: generateKey)
            return
        }
        guard let firmware else { return }
        if verify {
            let publicPEM: Data
            if let publicKey {
                guard let data = FileManager.default.contents(atPath: publicKey) else {
                    throw ValidationError("cannot read public key \(publicKey)")
                }
                publicPEM = data
            } else {
                publicPEM = try FirmwareSigning.publicKeyPEM(ofPrivateKeyPEM: try Self.read(key!, what: "private key"))
            }
            let signatureData = try Self.signatureBytes(signature!)
            if try FirmwareSigning.verify(filePath: firmware, signature: signatureData, publicKeyPEM: publicPEM) {
                print("signature OK")
            } else {
                FileHandle.standardError.write(Data("signature does NOT match \(firmware)\n".utf8))
                throw ExitCode(1)
            }
            return
        }
        let signatureData = try FirmwareSigning.sign(filePath: firmware, privateKeyPEMPath: key!)
        print(signatureData.base64EncodedString())
    }

    static func generate(at path: String) throws {
        let pair = try FirmwareSigning.generateKeyPair()
        let publicPath = path.hasSuffix(".pem") ? String(path.dropLast(4)) + ".pub.pem" : path + ".pub"
        guard FileManager.default.createFile(atPath: path, contents: pair.privateKeyPEM,
                                             attributes: [.posixPermissions: 0o600])
        else { throw ValidationError("cannot write \(path)") }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        guard FileManager.default.createFile(atPath: publicPath, contents: pair.publicKeyPEM,
                                             attributes: [.posixPermissions: 0o644])
        else { throw ValidationError("cannot write \(publicPath)") }
        print("private key: \(path) (0600)")
        print("public key:  \(publicPath)")
    }

    static func read(_ path: String, what: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(what) \(path)")
        }
        return data
    }

    /// Base64 text given directly, or a file holding it.
    static func signatureBytes(_ argument: String) throws -> Data {
        var text = argument
        if FileManager.default.fileExists(atPath: argument) {
            text = String(decoding: try read(argument, what: "signature"), as: UTF8.self)
        }
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ValidationError("the signature is not base64 (nor a file holding base64)")
        }
        return data
    }
}
