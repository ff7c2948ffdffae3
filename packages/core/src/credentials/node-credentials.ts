import { createHash } from 'node:crypto';
import { VmkitError } from '../errors/vmkit-error.js';
import type { NodeCredentialSource } from '../guest/guest-transport.js';
import { providerNamespace } from '../masters/master-repository.js';
import type { CredentialStore } from '../model/credential-store.js';
import type { LoginCredentials } from '../model/login-credentials.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { ExclusiveCredentialStore } from './file-credential-store.js';
import { makeEd25519KeyPair, publicKeyOf } from './ssh-key-pair.js';

/** The login user when neither the template nor the image names one. */
export const DEFAULT_LOGIN_USER = 'root';

/**
 * The credentials vmkit keeps for nodes, in a {@link CredentialStore}: one ed25519 key pair per
 * provider and group (`groups/<provider>/<group>/id_ed25519`, made once, on first demand), and the
 * SSH host key of each node pinned on first contact (`host-keys/<provider>/<node>`). Provider
 * ids and node ids are hashed into key names, so any id is a safe name.
 */
export class NodeCredentials implements NodeCredentialSource {
  readonly #store: CredentialStore;
  readonly #providerId: () => string;
  readonly #making = new Map<string, Promise<string>>();

  constructor(store: CredentialStore, providerId: () => string) {
    this.#store = store;
    this.#providerId = providerId;
  }

  /**
   * The public key line of `group`'s key pair (for the config drive), making and storing the pair
   * first when the group has none. Concurrent calls for one group make one pair; across processes
   * a store with `putIfAbsent` keeps the first pair stored.
   */
  async groupPublicKey(group: string): Promise<string> {
    const key = this.#groupKey(group);
    let making = this.#making.get(key);
    if (!making) {
      making = this.#groupPrivateKey(key, group).finally(() => this.#making.delete(key));
      this.#making.set(key, making);
    }
    const publicKey = await publicKeyOf(await making);
    if (!publicKey)
      throw new VmkitError(
        'CORRUPT',
        `the stored key pair of group ${group} cannot be read; delete it to make a new one`,
        {
          details: { group },
        },
      );
    return `${publicKey} vmkit-${group}`;
  }

  async #groupPrivateKey(key: string, group: string): Promise<string> {
    const stored = await this.#store.get(key);
    if (stored !== undefined) return stored;
    const pair = await makeEd25519KeyPair(`vmkit-${group}`);
    const exclusive = this.#store as Partial<ExclusiveCredentialStore>;
    if (typeof exclusive.putIfAbsent === 'function')
      return exclusive.putIfAbsent.call(this.#store, key, pair.privateKey);
    await this.#store.put(key, pair.privateKey);
    return pair.privateKey;
  }

  /**
   * Records the user that logs in to `group`'s nodes with its key (the template's `loginUser` or
   * the image's login user), read back by {@link NodeCredentials.forNode}: a node's own record
   * does not keep the template's choice.
   */
  async rememberLoginUser(group: string, user: string): Promise<void> {
    const key = `${this.#groupFolder(group)}/login-user`;
    if ((await this.#store.get(key)) !== user) await this.#store.put(key, user);
  }

  /**
   * The node's login: its group's private key when vmkit stored one, for the user recorded with
   * it (else the image's login user, else `root`), with the image's password when it has one;
   * without a stored key, the image's login when it holds a password or key.
   */
  async forNode(node: NodeMetadata): Promise<LoginCredentials | undefined> {
    const privateKey = await this.#store.get(this.#groupKey(node.group));
    const login = node.login;
    if (privateKey === undefined) return login?.password || login?.privateKey ? login : undefined;
    const user = (await this.#store.get(`${this.#groupFolder(node.group)}/login-user`)) ?? login?.user;
    return { ...login, user: user ?? DEFAULT_LOGIN_USER, privateKey };
  }

  /** The host key pinned for a node (`type base64`), or `undefined` before first contact. */
  pinnedHostKey(nodeId: string): Promise<string | undefined> {
    return this.#store.get(this.#hostKey(nodeId));
  }

  /** Pins a node's host key (`type base64`). */
  pinHostKey(nodeId: string, hostKey: string): Promise<void> {
    return this.#store.put(this.#hostKey(nodeId), hostKey);
  }

  /** Forgets a destroyed node's pinned host key (a node made again under its id has a new one). */
  forgetNode(nodeId: string): Promise<void> {
    return this.#store.delete(this.#hostKey(nodeId));
  }

  /** Deletes `group`'s key pair; nodes made with it can then no longer be reached with it. */
  deleteGroupKey(group: string): Promise<void> {
    return this.#store.delete(this.#groupKey(group));
  }

  #groupFolder(group: string): string {
    return `groups/${providerNamespace(this.#providerId())}/${group}`;
  }

  #groupKey(group: string): string {
    return `${this.#groupFolder(group)}/id_ed25519`;
  }

  #hostKey(nodeId: string): string {
    const id = createHash('sha256').update(nodeId).digest('hex').slice(0, 32);
    return `host-keys/${providerNamespace(this.#providerId())}/${id}`;
  }
}
