import { Profile } from '../../domain/profile/profile.entity';
import { connectionType } from './connection.type';

export const ProfileConnection = connectionType(Profile, 'Profile');
